// Unit: the outbound of a Socket.IO client with connection-state recovery
// (net/recoverable_outbound.hpp) with the offsets of chat_encoder::with_offsets(): frames
// forwarded and remembered, held while detached, the offset found among the frames sent,
// the replay after it in order (sent, then held) before any new frame, the frame and byte
// bounds, and release exactly once.
#include "net/recoverable_outbound.hpp"
#include "net/socketio_chat.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace chat;
using namespace chat::net;

namespace {

// A live session's outbound: records what it is given.
struct recording_outbound final : outbound {
  std::vector<frame_ptr> frames;
  bool closed = false;
  uint16_t close_code = 0;
  bool push(frame_ptr f) override {
    if (closed)
      return false;
    frames.push_back(std::move(f));
    return true;
  }
  void close(uint16_t code, const std::string&) override {
    closed = true;
    close_code = code;
  }
  uint64_t queued_bytes() const override { return 0; }
};

chat_message message(const std::string& room, uint64_t seq) {
  chat_message m;
  m.room = room;
  m.seq = seq;
  m.user = "alice";
  m.text = "text " + std::to_string(seq);
  m.ts_ms = 1700000000000;
  m.cid = "c" + std::to_string(seq);
  return m;
}

const wire_encoder& enc() { return sio::chat_encoder::with_offsets(); }

// The Socket.IO packet of a frame (after the WebSocket header).
std::string payload(const frame_ptr& f) {
  auto at = f->find("42[");
  return at == std::string::npos ? *f : f->substr(at);
}

std::vector<std::string> payloads(const std::vector<frame_ptr>& fs) {
  std::vector<std::string> out;
  for (auto& f : fs)
    out.push_back(payload(f));
  return out;
}

std::string suffix(const std::string& room, uint64_t seq) {
  return sio::chat_encoder::offset_suffix(sio::chat_encoder::offset(room, seq));
}

} // namespace

TEST_CASE("offsets: every msg event ends with <room>/<seq>; other frames carry none") {
  auto f = enc().msg(message("lobby", 7));
  CHECK(payload(f).find("42[\"msg\",{\"op\":\"msg\",\"room\":\"lobby\",\"seq\":7") == 0);
  CHECK(payload(f).substr(payload(f).size() - 11) == ",\"lobby/7\"]");
  // Without recovery the frame is unchanged.
  auto plain = sio::chat_encoder::instance().msg(message("lobby", 7));
  CHECK(payload(plain).substr(payload(plain).size() - 2) == "}]");
  CHECK(payload(enc().member("lobby", "bob", true)).back() == ']');
  CHECK(payload(enc().member("lobby", "bob", true)).find("lobby/") == std::string::npos);
  // A room name that needs escaping: the client's string (unescaped) finds its frame.
  auto odd = enc().msg(message("a\"b\\c/1", 12));
  CHECK(f->size() > 0);
  std::string s = *odd;
  auto want = suffix("a\"b\\c/1", 12);
  REQUIRE(s.size() >= want.size());
  CHECK(s.compare(s.size() - want.size(), want.size(), want) == 0);
  CHECK(sio::chat_encoder::offset("a\"b\\c/1", 12) == "a\"b\\c/1/12");
}

TEST_CASE("recoverable outbound: forwards while attached, holds while detached, replays "
          "after the offset in order") {
  auto live = std::make_shared<recording_outbound>();
  recoverable_outbound out(live, {100, 1 << 20});
  for (uint64_t seq = 1; seq <= 5; ++seq)
    REQUIRE(out.push(enc().msg(message("r", seq))));
  auto member = enc().member("r", "bob", true);
  REQUIRE(out.push(member));
  CHECK(live->frames.size() == 6);

  REQUIRE(out.detach());
  for (uint64_t seq = 6; seq <= 8; ++seq)
    REQUIRE(out.push(enc().msg(message("r", seq))));
  CHECK(live->frames.size() == 6); // nothing reaches the old session
  CHECK(out.held_bytes() > 0);

  // The client received up to seq 3: 4, 5, the member event, then 6..8, exactly once.
  auto next = std::make_shared<recording_outbound>();
  bool first_called = false;
  auto r = out.attach(next, suffix("r", 3), [&] {
    first_called = true;
    CHECK(next->frames.empty()); // the CONNECT answer goes before the replay
  });
  REQUIRE(r == recoverable_outbound::attach_result::attached);
  CHECK(first_called);
  auto got = payloads(next->frames);
  REQUIRE(got.size() == 6);
  CHECK(got[0] == payload(enc().msg(message("r", 4))));
  CHECK(got[1] == payload(enc().msg(message("r", 5))));
  CHECK(got[2] == payload(member));
  CHECK(got[3] == payload(enc().msg(message("r", 6))));
  CHECK(got[5] == payload(enc().msg(message("r", 8))));
  CHECK(out.held_bytes() == 0);

  // Attached again: new frames go to the new session, and the replayed ones are remembered
  // (a second loss right away finds seq 8's offset).
  REQUIRE(out.push(enc().msg(message("r", 9))));
  CHECK(next->frames.size() == 7);
  REQUIRE(out.detach());
  auto third = std::make_shared<recording_outbound>();
  REQUIRE(out.attach(third, suffix("r", 8)) == recoverable_outbound::attach_result::attached);
  REQUIRE(third->frames.size() == 1);
  CHECK(payload(third->frames[0]) == payload(enc().msg(message("r", 9))));
}

TEST_CASE("recoverable outbound: the client's last frame is the newest: nothing to replay "
          "but what was held") {
  auto live = std::make_shared<recording_outbound>();
  recoverable_outbound out(live, {10, 1 << 20});
  out.push(enc().msg(message("r", 1)));
  out.detach();
  auto next = std::make_shared<recording_outbound>();
  REQUIRE(out.attach(next, suffix("r", 1)) == recoverable_outbound::attach_result::attached);
  CHECK(next->frames.empty());
}

TEST_CASE("recoverable outbound: an offset not among the frames sent changes nothing") {
  auto live = std::make_shared<recording_outbound>();
  recoverable_outbound out(live, {3, 1 << 20}); // remembers 3 frames
  for (uint64_t seq = 1; seq <= 5; ++seq)
    out.push(enc().msg(message("r", seq)));
  out.detach();
  out.push(enc().msg(message("r", 6)));
  auto next = std::make_shared<recording_outbound>();
  bool first_called = false;
  auto mark = [&] { first_called = true; };
  // seq 2 was pushed out of the 3 remembered; room "s" never existed; no offset at all.
  CHECK(out.attach(next, suffix("r", 2), mark) == recoverable_outbound::attach_result::offset_not_found);
  CHECK(out.attach(next, suffix("s", 4), mark) == recoverable_outbound::attach_result::offset_not_found);
  CHECK(out.attach(next, "", mark) == recoverable_outbound::attach_result::offset_not_found);
  // A suffix of an offset is not the offset ("r/14" must not match "4").
  CHECK(out.attach(next, sio::chat_encoder::offset_suffix("4"), mark)
        == recoverable_outbound::attach_result::offset_not_found);
  CHECK_FALSE(first_called);
  CHECK(next->frames.empty());
  // Still detached and holding: the oldest remembered frame (seq 3) still works.
  REQUIRE(out.attach(next, suffix("r", 3), mark) == recoverable_outbound::attach_result::attached);
  auto got = payloads(next->frames);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == payload(enc().msg(message("r", 4))));
  CHECK(got[2] == payload(enc().msg(message("r", 6))));
}

TEST_CASE("recoverable outbound: past its byte bound while detached it releases itself once") {
  auto live = std::make_shared<recording_outbound>();
  auto one = enc().msg(message("r", 1));
  recoverable_outbound out(live, {10, 3 * one->size()});
  out.push(one);
  int released = 0;
  recoverable_outbound::why cause = recoverable_outbound::why::released;
  out.set_on_release([&](recoverable_outbound::why w) {
    ++released;
    cause = w;
  });
  out.detach();
  for (uint64_t seq = 2; seq <= 4; ++seq)
    CHECK(out.push(enc().msg(message("r", seq)))); // 3 frames of the same size fit
  CHECK(released == 0);
  CHECK_FALSE(out.push(enc().msg(message("r", 5))));
  CHECK(released == 1);
  CHECK(cause == recoverable_outbound::why::overflow);
  CHECK(out.released());
  CHECK(out.held_bytes() == 0);
  CHECK_FALSE(out.push(enc().msg(message("r", 6))));
  auto next = std::make_shared<recording_outbound>();
  CHECK(out.attach(next, suffix("r", 1)) == recoverable_outbound::attach_result::released);
  CHECK_FALSE(out.detach());
  out.release();
  CHECK(released == 1);
}

TEST_CASE("recoverable outbound: close goes to the live session when attached, and ends "
          "the state when detached") {
  auto live = std::make_shared<recording_outbound>();
  recoverable_outbound out(live, {10, 1 << 20});
  int released = 0;
  out.set_on_release([&](recoverable_outbound::why w) {
    ++released;
    CHECK(w == recoverable_outbound::why::closed);
  });
  out.close(4001, "token expired");
  CHECK(live->closed);
  CHECK(live->close_code == 4001);
  CHECK(released == 0);
  out.detach();
  out.close(4001, "token expired");
  CHECK(released == 1);
  CHECK(out.released());
}

TEST_CASE("recoverable outbound: drain waits while detached go to the new session") {
  auto live = std::make_shared<recording_outbound>();
  auto one = enc().msg(message("r", 1));
  recoverable_outbound out(live, {10, 1 << 20});
  out.push(one);
  out.detach();
  int ready = 0;
  out.when_drained(one->size(), [&] { ++ready; }); // nothing held: at once
  CHECK(ready == 1);
  out.push(enc().msg(message("r", 2)));
  out.push(enc().msg(message("r", 3)));
  out.when_drained(0, [&] { ++ready; }); // held bytes above 0: waits
  CHECK(ready == 1);
  CHECK(out.queued_bytes() == out.held_bytes());
  auto next = std::make_shared<recording_outbound>();
  REQUIRE(out.attach(next, suffix("r", 1)) == recoverable_outbound::attach_result::attached);
  CHECK(ready == 2); // the default when_drained of the new session calls at once
}

TEST_CASE("recoverable outbound: concurrent pushes are remembered in the order forwarded") {
  auto live = std::make_shared<recording_outbound>();
  recoverable_outbound out(live, {4000, 1 << 20});
  auto pusher = [&](const std::string& room) {
    for (uint64_t seq = 1; seq <= 1000; ++seq)
      out.push(enc().msg(message(room, seq)));
  };
  std::thread a(pusher, "a"), b(pusher, "b");
  a.join();
  b.join();
  REQUIRE(live->frames.size() == 2000);
  out.detach();
  // Replaying after the 1000th frame forwarded gives exactly the last 1000, in that order.
  auto pivot = payload(live->frames[999]);
  auto quote = pivot.rfind(",\"");
  auto offset = pivot.substr(quote + 2, pivot.size() - quote - 4);
  auto next = std::make_shared<recording_outbound>();
  REQUIRE(out.attach(next, sio::chat_encoder::offset_suffix(offset))
          == recoverable_outbound::attach_result::attached);
  REQUIRE(next->frames.size() == 1000);
  for (size_t i = 0; i < 1000; ++i)
    CHECK(next->frames[i] == live->frames[1000 + i]);
}

TEST_CASE("recoverable outbound: the frames remembered are bounded in bytes too, the newest "
          "always kept") {
  auto live = std::make_shared<recording_outbound>();
  auto one = enc().msg(message("r", 1));
  // Room for about 3 frames of this size, though 100 frames are allowed.
  recoverable_outbound out(live, {100, 3 * one->size() + 10});
  for (uint64_t seq = 1; seq <= 10; ++seq)
    out.push(enc().msg(message("r", seq)));
  out.detach();
  auto next = std::make_shared<recording_outbound>();
  // seq 6 was let go (too old for the bytes); seq 8 is kept: 9 and 10 follow it.
  CHECK(out.attach(next, suffix("r", 6)) == recoverable_outbound::attach_result::offset_not_found);
  REQUIRE(out.attach(next, suffix("r", 8)) == recoverable_outbound::attach_result::attached);
  REQUIRE(next->frames.size() == 2);
  CHECK(payload(next->frames[1]) == payload(enc().msg(message("r", 10))));
  // The ring wraps over let-go slots: after 200 more frames the newest are still found.
  for (uint64_t seq = 11; seq <= 210; ++seq)
    out.push(enc().msg(message("r", seq)));
  out.detach();
  auto third = std::make_shared<recording_outbound>();
  REQUIRE(out.attach(third, suffix("r", 209)) == recoverable_outbound::attach_result::attached);
  REQUIRE(third->frames.size() == 1);
  CHECK(payload(third->frames[0]) == payload(enc().msg(message("r", 210))));
  // A single frame over the bound is still remembered (the newest always is).
  recoverable_outbound tiny(live, {10, 1});
  tiny.push(enc().msg(message("t", 1)));
  tiny.detach();
  CHECK(tiny.attach(next, suffix("t", 1)) == recoverable_outbound::attach_result::attached);
}
