// A few worker threads with a bounded queue, for work that must stay off the network and
// actor threads: password hashing (Argon2id, ~100 ms of CPU and 64 MiB each) and the
// account store's calls (SQLite blocks). A full queue refuses at once, so a storm costs
// queue slots and a 503 with Retry-After, never a stalled chat thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chat::auth {

class work_pool {
public:
  // A job learns how long it waited in the queue (it may give up when that is too long).
  using job = std::function<void(std::chrono::steady_clock::duration waited)>;

  // `nice` (0..19) lowers the workers' scheduling priority below the live path's (Linux
  // applies it per thread). `name` appears in log lines.
  work_pool(std::string name, unsigned threads, size_t max_queue, int nice);
  ~work_pool(); // finishes the queued jobs, then joins
  work_pool(const work_pool&) = delete;
  work_pool& operator=(const work_pool&) = delete;

  // False (the job is dropped) when the queue is full or the pool is stopping.
  bool submit(job j);
  size_t queued() const;
  unsigned threads() const { return unsigned(threads_.size()); }
  // Jobs refused because the queue was full (read by /metrics).
  uint64_t refused() const;

private:
  void run();

  struct entry {
    job j;
    std::chrono::steady_clock::time_point queued_at;
  };
  std::string name_;
  size_t max_queue_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<entry> jobs_;
  uint64_t refused_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace chat::auth
