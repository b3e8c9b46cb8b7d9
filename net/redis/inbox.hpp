// Hand-over from any thread to the Redis io thread, one wake-up per batch: push() tells the
// caller to post a drain only when the inbox goes from empty to non-empty; the drain takes
// everything queued by then. After close() pushes are refused.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace chat::redis {

template <class T>
class inbox {
public:
  enum class pushed { queued, queued_wake, closed };

  pushed push(T&& item) {
    std::lock_guard<std::mutex> guard(mu_);
    if (closed_)
      return pushed::closed;
    items_.push_back(std::move(item));
    return items_.size() == 1 ? pushed::queued_wake : pushed::queued;
  }
  // Swaps the queued items into `out` (which should be empty; its capacity is reused).
  void take(std::vector<T>& out) {
    std::lock_guard<std::mutex> guard(mu_);
    items_.swap(out);
  }
  void close() {
    std::lock_guard<std::mutex> guard(mu_);
    closed_ = true;
  }

private:
  std::mutex mu_;
  std::vector<T> items_;
  bool closed_ = false;
};

} // namespace chat::redis
