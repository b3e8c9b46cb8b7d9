// End-to-end: a real chatd process and real WebSocket clients exercising the native
// protocol: join/send/ack/msg, room isolation, cid dedupe, history, since, presence,
// typing and read events.
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;

TEST_CASE("join, send, ack and msg reach every member once, sender included") {
  node_process node({"--storage.backend=memory"});
  ws_client alice(node.port(), "user=alice");
  ws_client bob(node.port(), "user=bob");
  CHECK(alice.hello().str("user") == "alice");
  CHECK(alice.hello().str("node") == "test-node");

  alice.send(R"({"op":"join","room":"lobby","rid":1})");
  auto joined = alice.next_op("joined");
  CHECK(joined.str("room") == "lobby");
  CHECK(joined.u64("seq") == 0);
  CHECK(joined.at("rid").GetInt() == 1);
  bob.join("lobby");

  alice.send(R"({"op":"send","room":"lobby","text":"hi bob","cid":"c1","rid":"r1"})");
  auto m1 = alice.next_op("msg");
  auto ack = alice.next_op("ack");
  CHECK(ack.str("cid") == "c1");
  CHECK(ack.u64("seq") == 1);
  CHECK(ack.str("rid") == "r1");
  CHECK(m1.u64("seq") == 1);
  auto m2 = bob.next_op("msg");
  CHECK(m2.str("text") == "hi bob");
  CHECK(m2.str("from") == "alice");
  CHECK(m2.str("cid") == "c1");
  CHECK(m2.str("room") == "lobby");
  CHECK(m2.u64("seq") == 1);
  CHECK(m2.has("ts"));
  // Once: a pong sent after the message overtakes no second copy of it.
  for (auto* c : {&alice, &bob}) {
    c->send(R"({"op":"ping"})");
    for (auto f = c->next(); f.op() != "pong"; f = c->next())
      REQUIRE(f.op() != "msg");
  }
}

TEST_CASE("two rooms stay isolated") {
  node_process node({"--storage.backend=memory"});
  ws_client a(node.port(), "user=a");
  ws_client b(node.port(), "user=b");
  a.join("red");
  b.join("blue");
  a.send(send_frame("red", "to red", "1"));
  b.send(send_frame("blue", "to blue", "1"));
  auto ma = a.next_op("msg");
  auto mb = b.next_op("msg");
  CHECK(ma.str("text") == "to red");
  CHECK(mb.str("text") == "to blue");
  CHECK(ma.u64("seq") == 1);
  CHECK(mb.u64("seq") == 1);
  // Nothing of the other room arrives.
  b.send(R"({"op":"ping","rid":"p"})");
  auto next = b.next();
  while (next.op() == "ack")
    next = b.next();
  CHECK(next.op() == "pong");
}

TEST_CASE("a repeated cid is acked with its original seq and not delivered twice") {
  node_process node({"--storage.backend=memory"});
  ws_client a(node.port(), "user=a");
  ws_client b(node.port(), "user=b");
  a.join("r");
  b.join("r");
  a.send(send_frame("r", "once", "dup"));
  CHECK(a.next_op("ack").u64("seq") == 1);
  a.send(send_frame("r", "once", "dup"));
  CHECK(a.next_op("ack").u64("seq") == 1);
  a.send(send_frame("r", "two", "other"));
  CHECK(a.next_op("ack").u64("seq") == 2);
  CHECK(b.next_op("msg").u64("seq") == 1);
  auto second = b.next_op("msg");
  CHECK(second.u64("seq") == 2);
  CHECK(second.str("text") == "two");
}

TEST_CASE("history pages oldest first and join with since replays what was missed") {
  node_process node({"--storage.backend=memory"});
  ws_client a(node.port(), "user=a");
  a.join("h");
  for (int i = 1; i <= 30; ++i)
    a.send(send_frame("h", "m" + std::to_string(i), "c" + std::to_string(i)));
  for (int i = 1; i <= 30; ++i)
    a.next_op("ack");
  a.send(R"({"op":"history","room":"h","limit":10,"rid":7})");
  auto h = a.next_op("history");
  auto& msgs = h.at("messages");
  REQUIRE(msgs.Size() == 10);
  CHECK(msgs[0]["seq"].GetUint64() == 21);
  CHECK(msgs[9]["seq"].GetUint64() == 30);
  a.send(R"({"op":"history","room":"h","before":5})");
  auto older = a.next_op("history");
  REQUIRE(older.at("messages").Size() == 4);
  CHECK(older.at("messages")[0]["text"].GetString() == std::string("m1"));

  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"h","since":27})");
  CHECK(late.next_op("joined").u64("seq") == 30);
  for (uint64_t s = 28; s <= 30; ++s)
    CHECK(late.next_op("msg").u64("seq") == s);
}

TEST_CASE("presence, member, typing and read events reach the other members") {
  node_process node({"--storage.backend=memory"});
  ws_client a(node.port(), "user=ann");
  a.join("p");
  {
    ws_client b(node.port(), "user=ben");
    b.join("p");
    auto member = a.next_op("member");
    CHECK(member.str("user") == "ben");
    CHECK(member.str("event") == "join");
    auto online = a.next_op("presence");
    CHECK(online.str("user") == "ben");
    CHECK(online.str("status") == "online");

    a.send(R"({"op":"presence","users":["ben","nobody"],"rid":3})");
    auto reply = a.next_op("presence");
    CHECK(reply.at("users")["ben"].GetString() == std::string("online"));
    CHECK(reply.at("users")["nobody"].GetString() == std::string("offline"));

    b.send(R"({"op":"typing","room":"p"})");
    auto typing = a.next_op("typing");
    CHECK(typing.str("user") == "ben");
    b.send(R"({"op":"read","room":"p","seq":0})");
    auto read = a.next_op("read");
    CHECK(read.str("user") == "ben");
    CHECK(read.u64("seq") == 0);
  }
  auto left = a.next_op("member");
  CHECK(left.str("event") == "leave");
  auto offline = a.next_op("presence");
  CHECK(offline.str("user") == "ben");
  CHECK(offline.str("status") == "offline");

  a.send(R"({"op":"leave","room":"p","rid":"x"})");
  auto l = a.next_op("left");
  CHECK(l.str("room") == "p");
  a.send(send_frame("p", "after leave", "z"));
  CHECK(a.next_op("error").str("code") == "not_member");
}
