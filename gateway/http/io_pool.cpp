// io_context-per-thread pool (see io_pool.hpp).
#include "gateway/http/io_pool.hpp"

namespace laneway::http {

namespace {
thread_local std::size_t t_index = 0;
}

io_pool::io_pool(std::size_t threads) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
        contexts_.back()->get_executor()));
  }
}

io_pool::~io_pool() {
  stop();
  join();
}

void io_pool::start() {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([this, i] {
      t_index = i;
      contexts_[i]->run();
    });
  }
}

void io_pool::stop() {
  guards_.clear();
  for (auto& c : contexts_) c->stop();
}

void io_pool::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::size_t io_pool::thread_index() { return t_index; }

}  // namespace laneway::http
