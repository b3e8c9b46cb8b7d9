// Node-wide leveled logging to stderr (spdlog; CAF 0.17's own logger is compiled out of
// Debian's package). Repeated errors are rate-limited per call site: CHAT_LOG_LIMITED lets
// one line through per interval and counts what it held back into the next line, so a
// flood of identical failures costs a counter increment, not a write per event.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace chat::logging {

// Sets up the stderr logger once (idempotent); `level` as for set_level.
void init(const std::string& level = "info");
// "trace", "debug", "info", "warn", "error" or "off"; false for anything else.
bool set_level(const std::string& level);
bool valid_level(const std::string& level);

// Admits at most one line per `interval` from one call site.
class limiter {
public:
  explicit limiter(std::chrono::milliseconds interval = std::chrono::seconds(1))
    : interval_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count()) {}
  // -1: hold this line back; otherwise the number of lines held back since the last one.
  int64_t admit();

private:
  int64_t interval_ns_;
  std::atomic<int64_t> next_ns_{0};
  std::atomic<int64_t> suppressed_{0};
};

} // namespace chat::logging

// Logs at spdlog level `lvl` (spdlog::level::warn, ...), at most once per second from this
// call site; the next admitted line says how many were suppressed in between.
#define CHAT_LOG_LIMITED(lvl, ...)                                                          \
  do {                                                                                      \
    static ::chat::logging::limiter chat_log_limiter_;                                      \
    if (::spdlog::should_log(lvl)) {                                                        \
      auto chat_log_held_ = chat_log_limiter_.admit();                                      \
      if (chat_log_held_ > 0)                                                               \
        ::spdlog::log(lvl, "{} (and {} more like it in the last interval)",                 \
                      ::fmt::format(__VA_ARGS__), chat_log_held_);                          \
      else if (chat_log_held_ == 0)                                                         \
        ::spdlog::log(lvl, __VA_ARGS__);                                                    \
    }                                                                                       \
  } while (0)
