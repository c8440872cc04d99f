// kv_event_feed: the held-hash set and a bounded history of batches (kv_events.hpp). Changes are
// netted per step (a hash stored then evicted within one step never shows) and applied to the
// held set only when published, so a snapshot is exactly the state after batch `seq`.
#include "backends/engine/kv_events.hpp"

namespace laneway::engine {

void kv_event_feed::stored(uint64_t hash) {
  std::lock_guard lock(mutex_);
  if (pending_removed_.erase(hash) == 0) pending_stored_.insert(hash);
}

void kv_event_feed::removed(uint64_t hash) {
  std::lock_guard lock(mutex_);
  if (pending_stored_.erase(hash) == 0) pending_removed_.insert(hash);
}

void kv_event_feed::publish() {
  std::lock_guard lock(mutex_);
  kv_event_batch batch;
  for (const uint64_t h : pending_stored_) {
    if (held_.insert(h).second) batch.stored.push_back(h);
  }
  for (const uint64_t h : pending_removed_) {
    if (held_.erase(h) > 0) batch.removed.push_back(h);
  }
  pending_stored_.clear();
  pending_removed_.clear();
  if (batch.stored.empty() && batch.removed.empty()) return;
  batch.seq = ++seq_;
  history_.push_back(std::move(batch));
  while (history_.size() > max_batches_) history_.pop_front();
}

kv_snapshot kv_event_feed::snapshot() const {
  std::lock_guard lock(mutex_);
  return {seq_, std::vector<uint64_t>(held_.begin(), held_.end())};
}

bool kv_event_feed::since(uint64_t after, std::vector<kv_event_batch>& out) const {
  std::lock_guard lock(mutex_);
  if (after > seq_) return false;  // a number this feed never gave out (e.g. another process)
  if (after == seq_) return true;
  // Batches after..seq_ are needed; the oldest retained one must be after + 1 or earlier.
  if (history_.empty() || history_.front().seq > after + 1) return false;
  for (const kv_event_batch& b : history_) {
    if (b.seq > after) out.push_back(b);
  }
  return true;
}

uint64_t kv_event_feed::last_seq() const {
  std::lock_guard lock(mutex_);
  return seq_;
}

}  // namespace laneway::engine
