// Collects values pushed from callback threads (the Redis client's io thread) so that a
// test can wait for them — waiting for a condition, never sleeping a fixed time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chat::test {

template <class T>
class mailbox {
public:
  void push(T value) {
    {
      std::lock_guard<std::mutex> guard(mu_);
      items_.push_back(std::move(value));
    }
    cv_.notify_all();
  }
  // Waits until `pred(items)` holds; false after `timeout`.
  bool wait(const std::function<bool(const std::vector<T>&)>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(items_); });
  }
  bool wait_count(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait([n](const std::vector<T>& v) { return v.size() >= n; }, timeout);
  }
  std::vector<T> items() const {
    std::lock_guard<std::mutex> guard(mu_);
    return items_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> guard(mu_);
    return items_.size();
  }

private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

// Polls `pred` every 10 ms until it holds; false after `timeout`.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

} // namespace chat::test
