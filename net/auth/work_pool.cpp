// Bounded worker pool (see work_pool.hpp).
#include "net/auth/work_pool.hpp"

#include "config/log.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chat::auth {

work_pool::work_pool(std::string name, unsigned threads, size_t max_queue, int nice)
  : name_(std::move(name)), max_queue_(max_queue) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i)
    threads_.emplace_back([this, nice] {
      if (nice > 0)
        setpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)), nice);
      run();
    });
}

work_pool::~work_pool() {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

bool work_pool::submit(job j) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (stopping_ || jobs_.size() >= max_queue_) {
      ++refused_;
      return false;
    }
    jobs_.push_back({std::move(j), std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
  return true;
}

size_t work_pool::queued() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return jobs_.size();
}

uint64_t work_pool::refused() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return refused_;
}

void work_pool::run() {
  for (;;) {
    entry e;
    {
      std::unique_lock<std::mutex> lock(mtx_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return; // stopping and drained
      e = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      e.j(std::chrono::steady_clock::now() - e.queued_at);
    } catch (const std::exception& ex) {
      CHAT_LOG_LIMITED(spdlog::level::err, "{} pool: a job failed: {}", name_, ex.what());
    }
  }
}

} // namespace chat::auth
