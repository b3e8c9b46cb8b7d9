// Unit: the shape checks of replies to the node's own Redis commands, without a server — a
// subscription connection's pushes and answers (subscription_reply), the sequencing
// script's answer (parse_sequenced), a room counter's (parse_last_seq), the presence
// script's query answers and the handshake's. Replies are read from RESP bytes, as they
// arrive from a server.
#include "net/redis/link.hpp"
#include "net/redis/presence_replies.hpp"
#include "net/redis/resp.hpp"
#include "net/redis/room_log.hpp"
#include "net/redis/subscription_reply.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <map>

using namespace chat::redis;

namespace {

reply read(const std::string& bytes) {
  reader rd;
  REQUIRE(rd.feed(bytes.data(), bytes.size()));
  reply r;
  REQUIRE(rd.next(r) == 1);
  return r;
}

response ok(const std::string& bytes) { return response{failure::none, read(bytes)}; }

const awaited sub_room{sub_command::sub, "room"};
const awaited unsub_room{sub_command::unsub, "room"};
const awaited ping{sub_command::ping, {}};

sub_event event_of(const std::string& bytes, const awaited* head) {
  auto r = read(bytes);
  return read_subscription_reply(r, head).event;
}

} // namespace

TEST_CASE("messages are pushes: they answer nothing and point into the reply") {
  for (auto kind : {"message", "smessage"}) {
    std::string bytes = "*3\r\n$" + std::to_string(std::strlen(kind)) + "\r\n" + kind
                        + "\r\n$4\r\nroom\r\n$5\r\n1:abc\r\n";
    auto r = read(bytes);
    for (const awaited* head : {(const awaited*)nullptr, &sub_room, &ping}) {
      auto got = read_subscription_reply(r, head);
      CHECK(got.event == sub_event::message);
      CHECK_FALSE(got.answers());
      REQUIRE(got.channel == &r.elements[1].str);
      CHECK(got.payload == "1:abc");
    }
  }
  // A message without its payload, or with an extra element, is out of step.
  CHECK(event_of("*2\r\n$7\r\nmessage\r\n$4\r\nroom\r\n", nullptr) == sub_event::out_of_step);
  CHECK(event_of("*4\r\n$7\r\nmessage\r\n$4\r\nroom\r\n$1\r\nx\r\n$1\r\ny\r\n", nullptr)
        == sub_event::out_of_step);
  CHECK(event_of("*3\r\n$7\r\nmessage\r\n$4\r\nroom\r\n:1\r\n", nullptr)
        == sub_event::out_of_step);
}

TEST_CASE("confirmations answer only the command awaited, for its channel") {
  std::string sub = "*3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n";
  std::string ssub = "*3\r\n$10\r\nssubscribe\r\n$4\r\nroom\r\n:1\r\n";
  CHECK(event_of(sub, &sub_room) == sub_event::subscribed);
  CHECK(event_of(ssub, &sub_room) == sub_event::subscribed);
  const awaited other{sub_command::sub, "other"};
  CHECK(event_of(sub, &other) == sub_event::out_of_step);
  CHECK(event_of(sub, &unsub_room) == sub_event::out_of_step);
  CHECK(event_of(sub, nullptr) == sub_event::out_of_step);

  std::string unsub = "*3\r\n$11\r\nunsubscribe\r\n$4\r\nroom\r\n:0\r\n";
  std::string sunsub = "*3\r\n$12\r\nsunsubscribe\r\n$4\r\nroom\r\n:0\r\n";
  CHECK(event_of(unsub, &unsub_room) == sub_event::unsubscribed);
  CHECK(event_of(sunsub, &unsub_room) == sub_event::unsubscribed);
  // Not ours: the server ended the subscription (a slot moved).
  CHECK(event_of(sunsub, nullptr) == sub_event::ended);
  CHECK(event_of(sunsub, &sub_room) == sub_event::ended);
  const awaited unsub_other{sub_command::unsub, "other"};
  CHECK(event_of(sunsub, &unsub_other) == sub_event::ended);
}

TEST_CASE("pongs, errors and other replies on a subscription connection") {
  CHECK(event_of("+PONG\r\n", &ping) == sub_event::pong);
  CHECK(event_of("*2\r\n$4\r\npong\r\n$0\r\n\r\n", &ping) == sub_event::pong);
  CHECK(event_of("+PONG\r\n", nullptr) == sub_event::out_of_step);
  CHECK(event_of("+PONG\r\n", &sub_room) == sub_event::out_of_step);
  CHECK(event_of("*2\r\n$4\r\npong\r\n$0\r\n\r\n", &unsub_room) == sub_event::out_of_step);

  std::string moved = "-MOVED 1 127.0.0.1:7001\r\n";
  CHECK(event_of(moved, &sub_room) == sub_event::refused);
  CHECK(event_of(moved, &unsub_room) == sub_event::failed);
  CHECK(event_of(moved, &ping) == sub_event::failed);
  CHECK(event_of(moved, nullptr) == sub_event::out_of_step);

  for (auto odd : {":1\r\n", "$4\r\nroom\r\n", "$-1\r\n", "*1\r\n$7\r\nmessage\r\n",
                   "*3\r\n:1\r\n$4\r\nroom\r\n$1\r\nx\r\n", "*3\r\n$4\r\npush\r\n$4\r\nroom\r\n$1\r\nx\r\n"})
    CHECK(event_of(odd, &sub_room) == sub_event::out_of_step);
}

TEST_CASE("the sequencing script's answer: a status with its seq, or failed with why") {
  auto r = parse_sequenced(ok("*2\r\n:1\r\n:42\r\n"));
  CHECK(r.status == seq_status::sequenced);
  CHECK(r.seq == 42);
  r = parse_sequenced(ok("*3\r\n:2\r\n:41\r\n:1700000000123\r\n"));
  CHECK(r.status == seq_status::duplicate);
  CHECK(r.ts_ms == 1700000000123);
  CHECK(parse_sequenced(ok("*3\r\n:3\r\n:40\r\n:1\r\n")).status == seq_status::conflict);
  CHECK(parse_sequenced(ok("*2\r\n:4\r\n:0\r\n")).status == seq_status::needs_seed);
  CHECK(parse_sequenced(ok("*2\r\n:5\r\n:0\r\n")).status == seq_status::needs_check);

  for (auto bad : {"*2\r\n:1\r\n:0\r\n", "*2\r\n:1\r\n:-5\r\n", "*2\r\n:9\r\n:3\r\n",
                   "*2\r\n$1\r\n1\r\n$2\r\n42\r\n", "*1\r\n:1\r\n", ":1\r\n",
                   "*3\r\n:1\r\n:2\r\n$1\r\nx\r\n", "-ERR script failed\r\n"}) {
    auto res = parse_sequenced(ok(bad));
    CAPTURE(bad);
    CHECK(res.status == seq_status::failed);
    CHECK_FALSE(res.error.empty());
  }
  auto lost = parse_sequenced(response{failure::lost, read("*2\r\n:1\r\n:42\r\n")});
  CHECK(lost.status == seq_status::failed);
  CHECK(lost.fail == failure::lost);
}

TEST_CASE("a room's counter: its value, 0 when missing, refused past what INCR reaches") {
  CHECK(parse_last_seq(ok("$2\r\n42\r\n")) == 42u);
  CHECK(parse_last_seq(ok("$-1\r\n")) == 0u);
  CHECK(parse_last_seq(ok("$19\r\n9223372036854775807\r\n")) == 9223372036854775807u);
  for (auto bad : {"$19\r\n9223372036854775808\r\n", "$20\r\n18446744073709551615\r\n",
                   "$2\r\n-1\r\n", "$3\r\n12x\r\n", ":42\r\n", "-ERR x\r\n", "*0\r\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_last_seq(ok(bad)));
  }
  CHECK_FALSE(parse_last_seq(response{failure::lost, read("$2\r\n42\r\n")}));
}

TEST_CASE("the presence script's query answers are used only in their shape") {
  auto nodes = parse_live_nodes(
    ok("*2\r\n*4\r\n$1\r\na\r\n:2500\r\n:3\r\n:5\r\n*4\r\n$1\r\nb\r\n:-1\r\n:-2\r\n:0\r\n"));
  REQUIRE(nodes);
  REQUIRE(nodes->size() == 2);
  CHECK(nodes->at(0).name == "a");
  CHECK(nodes->at(0).expires_in_ms == 2500);
  CHECK(nodes->at(0).connections == 5);
  CHECK(nodes->at(1).users == 0); // negative counts read 0
  CHECK(parse_live_nodes(ok("*0\r\n"))->empty());
  CHECK_FALSE(parse_live_nodes(ok("*1\r\n*3\r\n$1\r\na\r\n:1\r\n:1\r\n")));
  CHECK_FALSE(parse_live_nodes(ok("*1\r\n*4\r\n$1\r\na\r\n:1\r\n$1\r\n1\r\n:1\r\n")));
  CHECK_FALSE(parse_live_nodes(response{failure::timeout, read("*0\r\n")}));

  auto online = parse_online(ok("*3\r\n:1\r\n:0\r\n$1\r\n1\r\n"), {"ann", "bob", "cy"});
  REQUIRE(online);
  CHECK(online->at("ann"));
  CHECK_FALSE(online->at("bob"));
  CHECK_FALSE(online->at("cy")); // only the integer 1 says online
  CHECK_FALSE(parse_online(ok("*2\r\n:1\r\n:1\r\n"), {"ann", "bob", "cy"}));
  CHECK_FALSE(parse_online(ok("-ERR x\r\n"), {}));

  auto users = parse_node_users(ok("*4\r\n$3\r\nann\r\n$1\r\n2\r\n$3\r\nbob\r\n$1\r\n1\r\n"));
  REQUIRE(users);
  CHECK(*users == std::map<std::string, uint64_t>{{"ann", 2}, {"bob", 1}});
  CHECK_FALSE(parse_node_users(ok("*3\r\n$3\r\nann\r\n$1\r\n2\r\n$3\r\nbob\r\n")));
  CHECK_FALSE(parse_node_users(ok("*2\r\n$3\r\nann\r\n$2\r\n-2\r\n")));
  CHECK_FALSE(parse_node_users(ok("*2\r\n$3\r\nann\r\n:2\r\n")));
}

TEST_CASE("a handshake reply is refused only when it is an error") {
  CHECK(handshake_refusal(read("+OK\r\n")).empty());
  CHECK(handshake_refusal(read("-WRONGPASS bad\r\n")) == "handshake refused: WRONGPASS bad");
}
