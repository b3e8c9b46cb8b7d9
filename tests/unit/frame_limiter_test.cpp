// Unit: the connection rate limit — token bucket, refusals reported at most once per
// second with their count, and the flood rule (refused without a 1 s pause for
// flood_after), on a clock the test moves by hand.
#include "actors/frame_limiter.hpp"

#include <catch2/catch.hpp>

using chat::frame_limiter;
using namespace std::chrono_literals;

namespace {

frame_limiter::clock::time_point t0{std::chrono::hours(1)};

} // namespace

TEST_CASE("the bucket grants its burst, then the rate") {
  frame_limiter l({10, 20, 5s}, t0);
  l.refill(t0);
  CHECK(l.take(20) == 0);
  CHECK_FALSE(l.take());
  l.refill(t0 + 500ms); // 5 tokens
  CHECK(l.take(8) == 3);
  l.refill(t0 + 100s); // capped at the burst
  CHECK(l.take(25) == 5);
}

TEST_CASE("refusals are reported at most once per second, with their count") {
  frame_limiter l({10, 1, 0s}, t0);
  l.refill(t0);
  uint64_t n = 0;
  CHECK_FALSE(l.report_due(n)); // nothing refused yet
  CHECK(l.take());
  CHECK_FALSE(l.take());
  REQUIRE(l.report_due(n));
  CHECK(n == 1);
  CHECK(l.take(50) == 50);
  CHECK_FALSE(l.report_due(n)); // same second
  l.refill(t0 + 999ms);
  CHECK(l.take(10) == 9);
  CHECK_FALSE(l.report_due(n));
  l.refill(t0 + 1000ms);
  CHECK(l.take(3) == 3);
  REQUIRE(l.report_due(n));
  CHECK(n == 62); // 50 + 9 + 3
  CHECK_FALSE(l.flooding()); // flood_after 0: never
}

TEST_CASE("refused without a pause of a second for flood_after is a flood") {
  frame_limiter l({10, 10, 3s}, t0);
  auto t = t0;
  l.refill(t);
  l.take(10);
  // Over the limit continuously: refusals every 200 ms.
  for (int i = 0; i < 15; ++i) {
    t += 200ms;
    l.refill(t);
    l.take(5);
    CHECK_FALSE(l.flooding());
  }
  t += 200ms;
  l.refill(t);
  l.take(5); // 3 s after the first refusal
  CHECK(l.flooding());
}

TEST_CASE("bursts with pauses of a second or more are not a flood") {
  frame_limiter l({10, 10, 2s}, t0);
  auto t = t0;
  for (int burst = 0; burst < 10; ++burst) {
    l.refill(t);
    CHECK(l.take(100) > 0);
    CHECK_FALSE(l.flooding());
    t += 1500ms;
  }
}

TEST_CASE("a bucket larger than any count is fine") {
  frame_limiter l({1e300, 1e300, 1s}, t0);
  l.refill(t0 + 10s);
  CHECK(l.take(UINT32_MAX) == 0);
  CHECK(l.take());
}
