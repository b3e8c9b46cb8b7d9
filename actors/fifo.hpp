// A first-in first-out sequence on one vector: no allocation until the first push (a
// std::deque allocates a map and a 512-byte block as soon as it is constructed, which
// 100,000 idle rooms pay for several times over), random access for binary searches by
// seq, and storage given back once it is mostly unused.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace chat {

template <class T>
class fifo {
public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& back() { return items_.back(); }
  const T& back() const { return items_.back(); }
  T& operator[](size_t i) { return items_[head_ + i]; }
  const T& operator[](size_t i) const { return items_[head_ + i]; }

  void push_back(T&& v) { items_.push_back(std::move(v)); }

  void pop_front() {
    items_[head_] = T{};
    if (++head_ == items_.size()) {
      items_.clear();
      head_ = 0;
      if (items_.capacity() > 64)
        std::vector<T>().swap(items_);
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      compact();
    }
  }

  // Removes the element at `i` (rare: out-of-order completion), keeping the order.
  void erase(size_t i) { items_.erase(items_.begin() + static_cast<long>(head_ + i)); }

  void clear() {
    std::vector<T>().swap(items_);
    head_ = 0;
  }

private:
  // Moves the live part to the front; gives memory back when under a quarter is used.
  void compact() {
    std::vector<T> rest;
    if (size() * 4 < items_.capacity()) {
      rest.reserve(size() * 2);
      for (size_t i = head_; i < items_.size(); ++i)
        rest.push_back(std::move(items_[i]));
      items_.swap(rest);
    } else {
      items_.erase(items_.begin(), items_.begin() + static_cast<long>(head_));
    }
    head_ = 0;
  }

  std::vector<T> items_;
  size_t head_ = 0;
};

} // namespace chat
