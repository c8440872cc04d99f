// N I/O threads, each running its own io_context (Envoy's worker model): a connection lives on
// one thread for its whole life, so per-thread state (upstream pools, parsers) needs no locks and
// no strands. thread_index() tells code running on a worker which one it is on.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace laneway::http {

class io_pool {
 public:
  explicit io_pool(std::size_t threads);
  ~io_pool();
  io_pool(const io_pool&) = delete;
  io_pool& operator=(const io_pool&) = delete;

  std::size_t size() const { return contexts_.size(); }
  boost::asio::io_context& context(std::size_t i) { return *contexts_[i]; }
  // Round-robin choice for a new connection.
  std::size_t next_index() { return turn_.fetch_add(1, std::memory_order_relaxed) % contexts_.size(); }

  // Starts the threads; run() on the calling thread blocks until stop() and all threads ended.
  void start();
  void stop();
  void join();

  // Index of the worker the calling thread runs, or 0 on a non-worker thread.
  static std::size_t thread_index();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> turn_{0};
};

}  // namespace laneway::http
