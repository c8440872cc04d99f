// The feed of KV-cache block events a worker publishes for the gateway's precise prefix index
// (GET /v1/kv/events). The paged cache records, per scheduler step, the block hashes that became
// held (a full block was hashed and stored) and those no longer held (a cached block was evicted
// and reused). A consumer first takes a snapshot of every held hash with the sequence number it is
// current as of, then asks for the batches after that number; one that fell behind the bounded
// history is told so and takes a fresh snapshot.
//
// Thread safety: every member is safe from any thread (one mutex); the scheduler thread writes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <vector>

namespace laneway::engine {

struct kv_event_batch {
  uint64_t seq = 0;                 // 1, 2, 3, ... one per published batch
  std::vector<uint64_t> stored;     // hashes now held
  std::vector<uint64_t> removed;    // hashes no longer held
};

struct kv_snapshot {
  uint64_t seq = 0;                 // the last batch this snapshot includes (0: none yet)
  std::vector<uint64_t> hashes;     // every held hash, unordered
};

class kv_event_feed {
 public:
  explicit kv_event_feed(std::size_t max_batches = 1024) : max_batches_(max_batches) {}

  // Writer (scheduler thread): accumulate, then publish once per step (no-op when nothing
  // changed). A hash stored and removed again before publish() cancels out, so a batch's stored
  // and removed lists are disjoint and may be applied in either order.
  void stored(uint64_t hash);
  void removed(uint64_t hash);
  void publish();

  kv_snapshot snapshot() const;
  // Appends the batches with seq > after to `out`. False when `after` is older than the retained
  // history (the consumer must take a new snapshot); true otherwise (possibly nothing new).
  bool since(uint64_t after, std::vector<kv_event_batch>& out) const;
  uint64_t last_seq() const;

 private:
  mutable std::mutex mutex_;
  std::size_t max_batches_;
  std::unordered_set<uint64_t> held_;  // as of seq_ (published batches only)
  std::deque<kv_event_batch> history_;
  std::unordered_set<uint64_t> pending_stored_, pending_removed_;
  uint64_t seq_ = 0;
};

}  // namespace laneway::engine
