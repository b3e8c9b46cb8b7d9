// The per-call-site log limiter: one line per interval, the rest counted into the next.
#include "config/log.hpp"

#include <catch2/catch.hpp>

#include <thread>

using chat::logging::limiter;

TEST_CASE("a limiter admits one line per interval and counts the held-back ones") {
  limiter lim(std::chrono::milliseconds(200));
  CHECK(lim.admit() == 0);
  for (int i = 0; i < 5; ++i)
    CHECK(lim.admit() == -1);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  CHECK(lim.admit() == 5);
  CHECK(lim.admit() == -1);
}

TEST_CASE("log levels are checked by name") {
  for (auto l : {"trace", "debug", "info", "warn", "error", "off"})
    CHECK(chat::logging::valid_level(l));
  CHECK_FALSE(chat::logging::valid_level("verbose"));
  CHECK_FALSE(chat::logging::valid_level(""));
}
