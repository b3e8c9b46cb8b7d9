// Test double of a session's outbound queue (header-only): records the frames actors push,
// from any thread, and lets a test wait for the ones it expects.
#pragma once

#include "actors/wire.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace chat::test {

struct recording_outbound : outbound {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<frame_ptr> frames;

  bool push(frame_ptr f) override {
    std::lock_guard<std::mutex> g(mtx);
    frames.push_back(std::move(f));
    cv.notify_all();
    return true;
  }
  void close(uint16_t, const std::string&) override {}
  uint64_t queued_bytes() const override { return 0; }

  // The frames `keep` accepts, once there are `n` of them (or those there are after 10 s).
  template <class Keep>
  std::vector<frame_ptr> wait_for_frames(Keep keep, size_t n) {
    std::unique_lock<std::mutex> lock(mtx);
    std::vector<frame_ptr> out;
    cv.wait_for(lock, std::chrono::seconds(10), [&] {
      out.clear();
      for (auto& f : frames)
        if (keep(*f))
          out.push_back(f);
      return out.size() >= n;
    });
    return out;
  }
};

} // namespace chat::test
