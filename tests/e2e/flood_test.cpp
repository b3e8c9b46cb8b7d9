// End-to-end: floods. Control frames count against a connection's rate limit, refusals
// are answered with at most one rate_limited error per second (telling how many frames
// were refused), and a client that stays over the limit for chat.flood-close-after is
// closed with 1008 — while everyone else on the node keeps being served.
#include "support/http_get.hpp"
#include "support/node_process.hpp"
#include "support/raw_ws.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <regex>
#include <thread>

using namespace chat::test;
using ms = std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

namespace {

std::string ping(const std::string& rid) {
  return client_frame(0x81, R"({"op":"ping","rid":")" + rid + "\"}");
}

// Frames that arrive until none came for `quiet`.
std::vector<raw_ws::server_frame> frames_until_quiet(raw_ws& c, ms quiet = ms(500)) {
  std::vector<raw_ws::server_frame> out;
  for (;;) {
    try {
      out.push_back(c.next(quiet));
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).find("timeout") == std::string::npos)
        throw;
      return out;
    }
  }
}

size_t count_containing(const std::vector<raw_ws::server_frame>& frames, const std::string& s) {
  size_t n = 0;
  for (auto& f : frames)
    n += f.payload.find(s) != std::string::npos;
  return n;
}

// The number in "rate limit exceeded: N frame(s) refused ..." of a rate_limited error.
uint64_t refused_in(const raw_ws::server_frame& f) {
  std::smatch m;
  if (!std::regex_search(f.payload, m, std::regex(R"(exceeded: ([0-9]+) frame)")))
    FAIL("not a rate_limited error: " << f.payload);
  return std::stoull(m[1].str());
}

} // namespace

TEST_CASE("rate_limited errors are coalesced to one per second, with the refused count") {
  node_process node({"--storage.backend=memory", "--chat.rate-limit=10", "--chat.rate-burst=20",
                     "--chat.flood-close-after=0"});
  raw_ws c(node.port(), "user=eager");
  std::string burst;
  for (int i = 0; i < 100; ++i)
    burst += ping("a" + std::to_string(i));
  c.write(burst);
  auto first = frames_until_quiet(c);
  CHECK(count_containing(first, R"("op":"pong")") == 20);
  REQUIRE(count_containing(first, "rate_limited") == 1);
  for (auto& f : first)
    if (f.payload.find("rate_limited") != std::string::npos)
      CHECK(refused_in(f) == 1); // reported at the first refusal; 79 more held back
  CHECK(first.size() == 21);

  // More than a second later the next refusal reports everything held back since.
  std::this_thread::sleep_for(ms(1100) - ms(500));
  c.write(burst);
  auto second = frames_until_quiet(c);
  auto pongs = count_containing(second, R"("op":"pong")");
  CHECK(pongs >= 10);
  CHECK(pongs <= 20);
  REQUIRE(count_containing(second, "rate_limited") == 1);
  for (auto& f : second)
    if (f.payload.find("rate_limited") != std::string::npos)
      CHECK(refused_in(f) == 80); // the 79 held back and the one that is reported at once
  CHECK(second.size() == pongs + 1);
  // flood-close-after=0: never closed for it.
  c.write(client_frame(0x89, "still"));
  CHECK(c.next(ms(3000)).payload == "still");
  auto refused = http_get(node.admin_port(), "/metrics").body;
  CHECK(refused.find("chat_rate_limited_frames_total " + std::to_string(80 + 100 - pongs))
        != std::string::npos);
}

TEST_CASE("control frames count against the rate limit") {
  node_process node({"--storage.backend=memory", "--chat.rate-limit=1", "--chat.rate-burst=20",
                     "--chat.flood-close-after=0"});
  raw_ws c(node.port(), "user=pinger");
  std::string pings;
  for (int i = 0; i < 20; ++i)
    pings += client_frame(0x89, "p");
  c.write(pings + ping("json"));
  auto frames = frames_until_quiet(c);
  CHECK(count_containing(frames, R"("op":"pong")") == 0); // the JSON ping found no token
  CHECK(count_containing(frames, "rate_limited") == 1);
  size_t pongs = 0;
  for (auto& f : frames)
    pongs += f.opcode == 10;
  CHECK(pongs >= 1); // one pong answers the pings of one read (RFC 6455 5.5.3)
  CHECK(pongs <= 20);
}

TEST_CASE("a ping flood is closed with 1008 while the room keeps flowing") {
  node_process node({"--storage.backend=memory", "--chat.rate-limit=100", "--chat.rate-burst=100",
                     "--chat.flood-close-after=1s"});
  ws_client alice(node.port(), "user=alice");
  ws_client bob(node.port(), "user=bob");
  alice.join("calm");
  bob.join("calm");
  raw_ws flooder(node.port(), "user=flooder");

  std::atomic<bool> stop{false};
  auto started = clock_type::now();
  std::thread writer([&] {
    std::string pings;
    for (int i = 0; i < 100; ++i)
      pings += client_frame(0x89, "flood");
    while (!stop && flooder.write(pings))
      std::this_thread::sleep_for(ms(5)); // 20,000 pings per second, 200 times the limit
  });
  uint16_t close_code = 0;
  std::string close_reason;
  size_t limited = 0;
  clock_type::duration closed_after{};
  std::atomic<bool> closed{false};
  std::thread reader([&] {
    try {
      for (;;) {
        auto f = flooder.next(ms(10000));
        if (f.opcode == 1 && f.payload.find("rate_limited") != std::string::npos)
          ++limited;
        if (f.opcode == 8) {
          close_code = f.close_code();
          close_reason = f.payload.size() > 2 ? f.payload.substr(2) : "";
          closed_after = clock_type::now() - started;
          break;
        }
      }
    } catch (const std::exception&) {
    }
    closed = true;
  });

  // Meanwhile alice and bob keep talking; every send is acked and delivered promptly.
  int sent = 0;
  clock_type::duration slowest{};
  while (!closed && clock_type::now() - started < std::chrono::seconds(10)) {
    auto t = clock_type::now();
    alice.send(send_frame("calm", "m" + std::to_string(sent), "c" + std::to_string(sent)));
    CHECK(alice.next_op("ack", ms(3000)).u64("seq") == uint64_t(sent + 1));
    CHECK(bob.next_op("msg", ms(3000)).str("text") == "m" + std::to_string(sent));
    slowest = std::max(slowest, clock_type::now() - t);
    ++sent;
    std::this_thread::sleep_for(ms(50)); // 20 sends per second: well within alice's own limit
  }
  reader.join();
  stop = true;
  writer.join();

  CHECK(close_code == 1008);
  CHECK(close_reason.find("flooding") != std::string::npos);
  CHECK(closed_after >= std::chrono::seconds(1));
  CHECK(closed_after < std::chrono::seconds(6));
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(closed_after).count();
  CHECK(limited >= 1);
  CHECK(limited <= size_t(seconds + 1)); // at most one rate_limited error per second
  CHECK(flooder.ended_within(ms(5000)));
  CHECK(sent >= 3);
  CHECK(slowest < std::chrono::seconds(1));
  auto metrics = http_get(node.admin_port(), "/metrics").body;
  CHECK(metrics.find(R"(chat_ws_violation_closes_total{code="1008",cause="flood"} 1)")
        != std::string::npos);
}
