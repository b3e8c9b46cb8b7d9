// FIFO of outgoing frames whose strings are reused, so queueing a frame allocates nothing
// once the queue has reached its working size.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace chat::loadgen {

class frame_queue {
public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  // A slot at the back to fill in; its previous contents are garbage.
  std::string& push() {
    if (size_ == slots_.size())
      grow();
    std::string& slot = slots_[(head_ + size_) & (slots_.size() - 1)];
    ++size_;
    return slot;
  }
  std::string& front() { return slots_[head_]; }
  void pop() {
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  // Drops every frame except the front one (which may be being written).
  void drop_all_but_front() { size_ = size_ == 0 ? 0 : 1; }

private:
  void grow() {
    std::vector<std::string> bigger(slots_.empty() ? 4 : slots_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i)
      bigger[i] = std::move(slots_[(head_ + i) & (slots_.size() - 1)]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<std::string> slots_; // size is zero or a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

} // namespace chat::loadgen
