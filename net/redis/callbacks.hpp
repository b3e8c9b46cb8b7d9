// Runs a caller's callback on the Redis io thread: an exception it throws is logged
// (rate-limited) and counted, never allowed to unwind through the layer's own state.
#pragma once

#include "config/log.hpp"
#include "net/redis/stats.hpp"

#include <exception>

namespace chat::redis {

template <class F>
void run_callback(stats& st, const char* what, F&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    st.callback_errors.fetch_add(1, std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::err, "redis: {} callback threw: {}", what, e.what());
  }
}

} // namespace chat::redis
