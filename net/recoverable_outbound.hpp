// The outbound of a Socket.IO client with connection-state recovery: forwards every frame
// to the live Engine.IO session and remembers the last `sent_frames` of them (at most
// `held_bytes` of them, the newest always; one pointer each, the frames being shared with
// the other recipients), to find the client's offset among them; when the
// transport is lost it holds what arrives (at most `held_bytes`), and when the client comes
// back with the offset of the last frame it received, re-attaches to the new session and
// replays every frame after that one (sent before the loss, then held) in order.
//
// States: attached -> (detach) -> detached -> (attach) -> attached, or -> released (for good:
// past the byte bound, closed while detached, or released by the owner). `on_release` runs
// once, outside the lock, when the outbound becomes released. Thread-safe.
#pragma once

#include "actors/wire.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace chat::net {

class recoverable_outbound final : public outbound {
public:
  struct bounds {
    size_t sent_frames = 500;      // frames remembered to find an offset (>= 1)
    uint64_t held_bytes = 1 << 20; // frames held while detached; frames remembered
  };
  enum class why { overflow, closed, released };
  using release_fn = std::function<void(why)>;

  recoverable_outbound(outbound_ptr target, bounds b);

  // Before the outbound can be detached.
  void set_on_release(release_fn f);

  // outbound
  bool push(frame_ptr frame) override;
  void close(uint16_t code, const std::string& reason) override;
  uint64_t queued_bytes() const override;
  void when_drained(uint64_t low, std::function<void()> ready) override;

  // The transport is gone: hold frames from now on. False when already released.
  bool detach();
  enum class attach_result { attached, offset_not_found, released };
  // Re-attaches to `target` if the frame ending with `offset_suffix` is among the frames
  // sent (see chat_encoder::offset_suffix): calls `first` (which may push the connection's
  // answer into `target`; it must not call this outbound), then replays the frames after
  // it, then the held ones, into `target` before any new frame. Otherwise nothing changes.
  attach_result attach(outbound_ptr target, std::string_view offset_suffix,
                       const std::function<void()>& first = {});
  // Ends the state (no-op when already released).
  void release(why w = why::released);

  bool released() const;
  uint64_t held_bytes() const;

private:
  enum class state { attached, detached, released };
  void remember_locked(frame_ptr frame);
  void release_locked(std::vector<std::function<void()>>& drop);

  const bounds bounds_;
  mutable std::mutex mtx_;
  state state_ = state::attached;
  outbound_ptr target_;
  // A ring of the last frames sent, oldest at `head_`; the `dropped_` oldest slots were let
  // go for the byte bound (null).
  std::vector<frame_ptr> sent_;
  size_t head_ = 0;
  size_t dropped_ = 0;
  uint64_t sent_bytes_ = 0;
  std::deque<frame_ptr> held_;
  uint64_t held_bytes_ = 0;
  struct drain_wait {
    uint64_t low;
    std::function<void()> ready;
  };
  std::vector<drain_wait> waiting_; // when_drained while detached
  release_fn on_release_;
};

} // namespace chat::net
