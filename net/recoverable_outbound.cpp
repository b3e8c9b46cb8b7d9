// A Socket.IO client's outbound that survives a lost transport (see recoverable_outbound.hpp).
// Frames are forwarded under the lock, so the order remembered is the order sent.
#include "net/recoverable_outbound.hpp"

namespace chat::net {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && std::string_view(s).substr(s.size() - suffix.size()) == suffix;
}

} // namespace

recoverable_outbound::recoverable_outbound(outbound_ptr target, bounds b)
  : bounds_{std::max<size_t>(b.sent_frames, 1), b.held_bytes}, target_(std::move(target)) {}

void recoverable_outbound::set_on_release(release_fn f) {
  std::lock_guard<std::mutex> guard(mtx_);
  on_release_ = std::move(f);
}

void recoverable_outbound::remember_locked(frame_ptr frame) {
  sent_bytes_ += frame->size();
  if (sent_.size() < bounds_.sent_frames) {
    sent_.push_back(std::move(frame)); // grows to its bound once, then never allocates
  } else {
    auto& oldest = sent_[head_];
    if (oldest)
      sent_bytes_ -= oldest->size();
    else
      --dropped_;
    oldest = std::move(frame);
    head_ = (head_ + 1) % sent_.size();
  }
  // Past the byte bound, the oldest frames are let go (the newest one always stays).
  while (sent_bytes_ > bounds_.held_bytes && dropped_ + 1 < sent_.size()) {
    auto& oldest = sent_[(head_ + dropped_) % sent_.size()];
    sent_bytes_ -= oldest->size();
    oldest.reset();
    ++dropped_;
  }
}

void recoverable_outbound::release_locked(std::vector<std::function<void()>>& drop) {
  state_ = state::released;
  target_.reset();
  sent_.clear();
  sent_.shrink_to_fit();
  head_ = 0;
  dropped_ = 0;
  sent_bytes_ = 0;
  held_.clear();
  held_bytes_ = 0;
  for (auto& d : waiting_)
    drop.push_back(std::move(d.ready)); // destroyed outside the lock, uncalled
  waiting_.clear();
}

bool recoverable_outbound::push(frame_ptr frame) {
  std::vector<std::function<void()>> drop;
  release_fn notify;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    switch (state_) {
      case state::attached:
        remember_locked(frame);
        return target_->push(std::move(frame));
      case state::released:
        return false;
      case state::detached:
        if (held_bytes_ + frame->size() <= bounds_.held_bytes) {
          held_bytes_ += frame->size();
          held_.push_back(std::move(frame));
          return true;
        }
        release_locked(drop);
        notify = std::move(on_release_);
        on_release_ = nullptr;
        break;
    }
  }
  if (notify)
    notify(why::overflow);
  return false;
}

void recoverable_outbound::close(uint16_t code, const std::string& reason) {
  outbound_ptr live;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (state_ == state::attached)
      live = target_;
  }
  if (live)
    live->close(code, reason);
  else
    release(why::closed);
}

uint64_t recoverable_outbound::queued_bytes() const {
  outbound_ptr live;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (state_ != state::attached)
      return held_bytes_;
    live = target_;
  }
  return live->queued_bytes();
}

void recoverable_outbound::when_drained(uint64_t low, std::function<void()> ready) {
  outbound_ptr live;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    switch (state_) {
      case state::released:
        return;
      case state::attached:
        live = target_;
        break;
      case state::detached:
        if (held_bytes_ > low) {
          waiting_.push_back({low, std::move(ready)});
          return;
        }
        break;
    }
  }
  if (live)
    live->when_drained(low, std::move(ready));
  else
    ready();
}

bool recoverable_outbound::detach() {
  std::lock_guard<std::mutex> guard(mtx_);
  if (state_ == state::released)
    return false;
  state_ = state::detached;
  target_.reset();
  return true;
}

recoverable_outbound::attach_result recoverable_outbound::attach(
  outbound_ptr target, std::string_view offset_suffix, const std::function<void()>& first) {
  std::vector<drain_wait> waits;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (state_ == state::released)
      return attach_result::released;
    if (state_ != state::detached || offset_suffix.empty())
      return attach_result::offset_not_found;
    // Newest first: the client's offset is normally among the last frames.
    size_t n = sent_.size();
    size_t found = n;
    for (size_t i = n; i-- > dropped_;) {
      if (ends_with(*sent_[(head_ + i) % n], offset_suffix)) {
        found = i;
        break;
      }
    }
    if (found == n)
      return attach_result::offset_not_found;
    if (first)
      first();
    for (size_t i = found + 1; i < n; ++i)
      target->push(sent_[(head_ + i) % n]);
    for (auto& f : held_) {
      target->push(f);
      remember_locked(std::move(f));
    }
    held_.clear();
    held_bytes_ = 0;
    target_ = target;
    state_ = state::attached;
    waits.swap(waiting_); // handed to the new session below, outside the lock
  }
  for (auto& w : waits)
    target->when_drained(w.low, std::move(w.ready));
  return attach_result::attached;
}

void recoverable_outbound::release(why w) {
  std::vector<std::function<void()>> drop;
  release_fn notify;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (state_ == state::released)
      return;
    release_locked(drop);
    notify = std::move(on_release_);
    on_release_ = nullptr;
  }
  if (notify)
    notify(w);
}

bool recoverable_outbound::released() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return state_ == state::released;
}

uint64_t recoverable_outbound::held_bytes() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return held_bytes_;
}

} // namespace chat::net
