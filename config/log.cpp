// stderr logger set-up and the per-call-site rate limiter.
#include "config/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace chat::logging {

namespace {

bool to_level(const std::string& name, spdlog::level::level_enum& out) {
  static const std::pair<const char*, spdlog::level::level_enum> names[] = {
    {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (auto& [n, l] : names)
    if (name == n) {
      out = l;
      return true;
    }
  return false;
}

} // namespace

void init(const std::string& level) {
  static std::once_flag once;
  std::call_once(once, [] {
    auto logger = spdlog::stderr_logger_mt("chatd");
    // One line per event: time, level, message. Lines go out as they are written.
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  });
  set_level(level);
}

bool valid_level(const std::string& level) {
  spdlog::level::level_enum l;
  return to_level(level, l);
}

bool set_level(const std::string& level) {
  spdlog::level::level_enum l;
  if (!to_level(level, l))
    return false;
  spdlog::set_level(l);
  return true;
}

int64_t limiter::admit() {
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count();
  auto next = next_ns_.load(std::memory_order_relaxed);
  if (now < next || !next_ns_.compare_exchange_strong(next, now + interval_ns_,
                                                      std::memory_order_relaxed)) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }
  return suppressed_.exchange(0, std::memory_order_relaxed);
}

} // namespace chat::logging
