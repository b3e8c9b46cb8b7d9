// Unit: the Redis layer's parsers and encoders without a server — room message encoding
// (binary-safe, injection-proof, strict), RESP formatting and reading (bounded arrays),
// key slots and hash tags, CLUSTER SLOTS and MOVED/ASK parsing, stream range parsing,
// EVALSHA -> EVAL rewriting, room key naming, and redis:// URIs.
#include "config/redis_uri.hpp"
#include "net/redis/message_codec.hpp"
#include "net/redis/resp.hpp"
#include "net/redis/room_log.hpp"
#include "net/redis/script.hpp"
#include "net/redis/slot_map.hpp"

#include <catch2/catch.hpp>

using namespace chat;
using namespace chat::redis;

namespace {

room_message sample() {
  room_message m;
  m.room = "lobby";
  m.user = "alice";
  m.cid = "c-1";
  m.text = "hello";
  m.ts_ms = 1700000000123;
  m.origin = "n1";
  return m;
}

reply str(std::string s) {
  reply r;
  r.type = reply::kind::string;
  r.str = std::move(s);
  return r;
}

reply integer(int64_t v) {
  reply r;
  r.type = reply::kind::integer;
  r.integer = v;
  return r;
}

reply array(std::vector<reply> el) {
  reply r;
  r.type = reply::kind::array;
  r.elements = std::move(el);
  return r;
}

reply entry(uint64_t seq, const room_message& m) {
  return array({str(std::to_string(seq) + "-0"), array({str("m"), str(encode_body(m))})});
}

} // namespace

TEST_CASE("room messages round-trip, whatever bytes the text holds") {
  auto m = sample();
  m.text = std::string("a:1:b\0c\r\n5:xx", 14) + std::string(3000, 'z');
  m.cid = "7:evil";
  m.user = "1:";
  room_message out;
  REQUIRE(decode_published("42:" + encode_body(m), 1 << 20, out).empty());
  CHECK(out.seq == 42);
  CHECK(out.room == m.room);
  CHECK(out.user == m.user);
  CHECK(out.cid == m.cid);
  CHECK(out.text == m.text);
  CHECK(out.ts_ms == m.ts_ms);
  CHECK(out.origin == m.origin);

  m.ts_ms = -5;
  m.text.clear();
  REQUIRE(decode_body(encode_body(m), 1 << 20, out).empty());
  CHECK(out.ts_ms == -5);
  CHECK(out.text.empty());
}

TEST_CASE("malformed room messages are refused with a reason") {
  auto body = encode_body(sample());
  room_message out;
  const std::string bad[] = {
    "", "2" + body.substr(1), body.substr(0, body.size() - 1), body + "x",
    "1" "99999999999:a", "1" "05:lobby", "1" "-1:", "1" "5lobby", "1" "0:0:0:0:0:0:",
    "1" "5:lobby" "5:alice" "3:c-1" "2:n1" "3:abc" "5:hello", // ts not a number
  };
  for (auto& b : bad) {
    INFO(b);
    CHECK_FALSE(decode_body(b, 1 << 20, out).empty());
  }
  CHECK_FALSE(decode_body(body, body.size() - 1, out).empty()); // over the bound
  CHECK(decode_body(body, body.size(), out).empty());
  CHECK_FALSE(decode_published(body, 1 << 20, out).empty());        // no seq
  CHECK_FALSE(decode_published("0:" + body, 1 << 20, out).empty()); // seq 0
  CHECK_FALSE(decode_published("x:" + body, 1 << 20, out).empty());
  CHECK_FALSE(decode_published("99999999999999999999999:" + body, 1 << 20, out).empty());
}

TEST_CASE("presence events and revocations round-trip; malformed ones are refused") {
  presence_event e{"al:ice", false, {"lobby", "1:x", std::string("a\0b", 3)}};
  auto bytes = encode_presence_event(e);
  CHECK(bytes == std::string("-6:al:ice5:lobby3:1:x3:a\0b", 26));
  presence_event out;
  REQUIRE(decode_presence_event(bytes, 1 << 20, out).empty());
  CHECK(out.user == e.user);
  CHECK_FALSE(out.online);
  CHECK(out.rooms == e.rooms);
  REQUIRE(decode_presence_event("+3:bob", 1 << 20, out).empty());
  CHECK(out.online);
  CHECK(out.rooms.empty());
  for (std::string bad : {"", "+", "*3:bob", "+0:", "+3:bo", "+3:bob0:", "+3:bob2:x",
                          "+03:bob", "+3:bob5:lobby!", "-99999999999:a"}) {
    INFO(bad);
    CHECK_FALSE(decode_presence_event(bad, 1 << 20, out).empty());
  }
  CHECK_FALSE(decode_presence_event(bytes, bytes.size() - 1, out).empty()); // over the bound

  revocation r{"n1", "mallory", 1700000000};
  revocation back;
  REQUIRE(decode_revocation(encode_revocation(r), back).empty());
  CHECK(back.origin == "n1");
  CHECK(back.user == "mallory");
  CHECK(back.valid_after_s == 1700000000);
  for (std::string bad : {"", "r", "x2:n17:mallory1:1", "r2:n17:mallory1:x", "r2:n10:1:1",
                          "r2:n17:mallory1:1!", "r2:n17:mallory"}) {
    INFO(bad);
    CHECK_FALSE(decode_revocation(bad, back).empty());
  }
  CHECK_FALSE(decode_revocation("r2:n1" + std::string(5000, '7'), back).empty());
}

TEST_CASE("commands are formatted as arrays of bulk strings") {
  std::string out;
  append_command(out, {"SET", "k", std::string_view("a\0b", 3)});
  CHECK(out == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n", 29));
}

TEST_CASE("the reader yields nested replies and refuses huge arrays before allocating") {
  reader rd;
  std::string wire = "*3\r\n:7\r\n$-1\r\n*2\r\n+OK\r\n-ERR bad thing\r\n";
  // Fed in small pieces, as the network delivers.
  for (size_t i = 0; i < wire.size(); i += 3)
    REQUIRE(rd.feed(wire.data() + i, std::min<size_t>(3, wire.size() - i)));
  reply r;
  REQUIRE(rd.next(r) == 1);
  REQUIRE(r.is_array());
  REQUIRE(r.elements.size() == 3);
  CHECK(r.elements[0].integer == 7);
  CHECK(r.elements[1].type == reply::kind::nil);
  CHECK(r.elements[2].elements[0].str == "OK");
  CHECK(r.elements[2].elements[1].is_error());
  CHECK(r.elements[2].elements[1].error_is("ERR"));
  CHECK_FALSE(r.elements[2].elements[1].error_is("ER"));
  CHECK(rd.next(r) == 0);

  reader huge;
  std::string bomb = "*2000000000\r\n";
  huge.feed(bomb.data(), bomb.size());
  CHECK(huge.next(r) == -1);
  CHECK(huge.error().find("elements") != std::string::npos);

  // Many arrays below the per-array bound add up to the per-reply bound (a byte bound
  // large enough not to come first).
  constexpr size_t gib = size_t(1) << 30;
  reader nested(gib);
  std::string many = "*3\r\n*1000000\r\n";
  for (int i = 0; i < 1000000; ++i)
    many += ":1\r\n";
  many += "*1000000\r\n";
  for (int i = 0; i < 1000000; ++i)
    many += ":1\r\n";
  many += "*1000000\r\n";
  nested.feed(many.data(), many.size());
  CHECK(nested.next(r) == -1);
  // Two replies of 1.5 million elements each: each is within the bound (the count starts
  // again with every reply), together they would not be.
  reader fine(gib);
  std::string big = "*2\r\n";
  for (int half = 0; half < 2; ++half) {
    big += "*750000\r\n";
    for (int i = 0; i < 750000; ++i)
      big += ":2\r\n";
  }
  fine.feed(big.data(), big.size());
  fine.feed(big.data(), big.size());
  CHECK(fine.next(r) == 1);
  CHECK(fine.next(r) == 1);
  CHECK(r.elements[1].elements[749999].integer == 2);
}

TEST_CASE("the reader bounds a reply's bytes, and an array's header alone costs nothing") {
  reply r;
  // A bulk string declared larger than the bound: refused once the buffered part is over
  // the bound, long before the declared length arrives.
  reader bulk(1000);
  std::string head = "$1000000000\r\n";
  REQUIRE(bulk.feed(head.data(), head.size()));
  CHECK(bulk.next(r) == 0);
  std::string chunk(600, 'x');
  REQUIRE(bulk.feed(chunk.data(), chunk.size()));
  CHECK(bulk.next(r) == 0); // 614 bytes buffered
  REQUIRE(bulk.feed(chunk.data(), chunk.size()));
  CHECK(bulk.next(r) == -1);
  CHECK(bulk.error().find("over 1000 bytes") != std::string::npos);

  // A status line that never ends.
  reader line(1000);
  std::string open_line = "+" + std::string(1200, 'y');
  REQUIRE(line.feed(open_line.data(), open_line.size()));
  CHECK(line.next(r) == -1);

  // Objects already kept count too (sizeof(reply) each, plus its string): an array of
  // small strings, each within the bound.
  reader many(1000);
  std::string arr = "*100\r\n";
  for (int i = 0; i < 100; ++i)
    arr += "$20\r\n" + std::string(20, 'z') + "\r\n";
  REQUIRE(many.feed(arr.data(), arr.size()));
  CHECK(many.next(r) == -1);
  CHECK(many.error().find("over 1000 bytes") != std::string::npos);

  // At the bound is fine, and the count starts again with every reply.
  reader exact(51 * sizeof(reply) + 50 * 20);
  std::string one = "*50\r\n";
  for (int i = 0; i < 50; ++i)
    one += "$20\r\n" + std::string(20, 'w') + "\r\n";
  std::string over = "*50\r\n" + one.substr(5, one.size() - 5 - 27) + "$21\r\n"
                     + std::string(21, 'w') + "\r\n"; // one byte more
  reader just_over(51 * sizeof(reply) + 50 * 20);
  REQUIRE(just_over.feed(over.data(), over.size()));
  CHECK(just_over.next(r) == -1);
  for (int k = 0; k < 3; ++k) {
    REQUIRE(exact.feed(one.data(), one.size()));
    REQUIRE(exact.next(r) == 1);
    CHECK(r.elements.size() == 50);
    CHECK(r.elements[49].str == std::string(20, 'w'));
  }
  // After reset (a new connection) the reader works again.
  bulk.reset();
  std::string ok = "+OK\r\n";
  REQUIRE(bulk.feed(ok.data(), ok.size()));
  REQUIRE(bulk.next(r) == 1);
  CHECK(r.str == "OK");

  // Nested arrays declared at the per-array maximum keep only what has arrived: the
  // elements that came are whole and in order (the arrays grow as they arrive).
  reader nested;
  std::string partial = "*1048576\r\n*1000000\r\n:5\r\n$2\r\nab\r\n*2\r\n:1\r\n:2\r\n";
  REQUIRE(nested.feed(partial.data(), partial.size()));
  CHECK(nested.next(r) == 0);
  // Complete a smaller tree to check the grown arrays' contents.
  reader grown;
  std::string tree = "*3\r\n*2\r\n:1\r\n*1\r\n$1\r\nq\r\n:2\r\n*70\r\n";
  for (int i = 0; i < 70; ++i)
    tree += ":" + std::to_string(i) + "\r\n";
  REQUIRE(grown.feed(tree.data(), tree.size()));
  REQUIRE(grown.next(r) == 1);
  REQUIRE(r.elements.size() == 3);
  CHECK(r.elements[0].elements[0].integer == 1);
  CHECK(r.elements[0].elements[1].elements[0].str == "q");
  CHECK(r.elements[1].integer == 2);
  REQUIRE(r.elements[2].elements.size() == 70);
  CHECK(r.elements[2].elements[69].integer == 69);
}

TEST_CASE("key slots follow Redis Cluster's CRC16 and hash tags") {
  CHECK(crc16("123456789") == 0x31C3);
  CHECK(key_slot("123456789") == 12739);
  CHECK(key_slot("{user1000}.following") == key_slot("user1000"));
  CHECK(key_slot("foo{}{bar}") == key_slot("foo{}{bar}"));
  CHECK(key_slot("foo{}{bar}") != key_slot("bar"));          // empty tag: whole key
  CHECK(key_slot("foo{{bar}}zap") == key_slot("{bar"));      // tag is "{bar"
  CHECK(key_slot("foo{bar}{zap}") == key_slot("bar"));       // first tag only
}

TEST_CASE("all keys of a room share a slot, whatever the room is called") {
  for (std::string room : {"lobby", "}x", "a}b", "{x}", "%7D", "", "100%", "a{b}c}"}) {
    INFO(room);
    auto k = keys_for(room);
    auto slot = key_slot(k.seq);
    CHECK(key_slot(k.hist) == slot);
    CHECK(key_slot(k.cid_a) == slot);
    CHECK(key_slot(k.cid_b) == slot);
    CHECK(key_slot(k.channel) == slot);
    CHECK(k.channel == room_channel(room));
  }
  // Escaping keeps distinct rooms distinct.
  CHECK(keys_for("}").seq != keys_for("%7D").seq);
  CHECK(keys_for("%").seq != keys_for("%25").seq);
}

TEST_CASE("CLUSTER SLOTS replies become a slot map; bad ones are refused") {
  auto node = [](std::string host, int64_t port) {
    return array({str(std::move(host)), integer(port), str("id")});
  };
  auto slots = array({array({integer(0), integer(5460), node("10.0.0.1", 7000)}),
                      array({integer(5461), integer(10922), node("", 7001)}),
                      array({integer(10923), integer(16383), node("10.0.0.3", 7002),
                             node("10.0.0.4", 7003)})});
  slot_map m;
  endpoint asked{"10.0.0.2", 7001};
  REQUIRE(parse_cluster_slots(slots, asked, m).empty());
  CHECK(m.complete());
  CHECK(m.masters.size() == 3);
  CHECK(m.owner_of(0)->port == 7000);
  CHECK(m.owner_of(6000)->host == "10.0.0.2"); // empty host: the node asked
  CHECK(m.owner_of(16383)->port == 7002);

  slot_map partial;
  REQUIRE(parse_cluster_slots(array({array({integer(0), integer(10), node("h", 1)})}), asked,
                              partial)
            .empty());
  CHECK_FALSE(partial.complete());

  const reply bad[] = {
    str("x"), array({str("x")}), array({array({integer(5), integer(2), node("h", 1)})}),
    array({array({integer(0), integer(16384), node("h", 1)})}),
    // A slot claimed twice: no node answers so; refusing it bounds the work (and the masters)
    // a reply can cost to one pass over the 16384 slots.
    array({array({integer(0), integer(10), node("h", 1)}),
           array({integer(5), integer(20), node("g", 2)})}),
    array({array({integer(0), integer(16383), node("h", 1)}),
           array({integer(0), integer(16383), node("h", 1)})}),
    array({array({integer(0), integer(1), node("h", 70000)})}),
    array({array({integer(0), integer(1), array({str("h")})})}),
  };
  for (auto& b : bad) {
    slot_map out;
    CHECK_FALSE(parse_cluster_slots(b, asked, out).empty());
  }
}

TEST_CASE("MOVED and ASK redirections are parsed strictly") {
  int slot;
  endpoint to;
  REQUIRE(parse_redirect("MOVED 3999 127.0.0.1:6381", slot, to));
  CHECK(slot == 3999);
  CHECK(to.host == "127.0.0.1");
  CHECK(to.port == 6381);
  REQUIRE(parse_redirect("ASK 1 [::1]:7000", slot, to));
  CHECK(to.host == "::1");
  REQUIRE(parse_redirect("MOVED 5 :7000", slot, to));
  CHECK(to.host.empty());
  for (auto bad : {"MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h", "MOVED 1 h:0",
                   "MOVED 1 h:99999"})
    CHECK_FALSE(parse_redirect(bad, slot, to));
}

TEST_CASE("stream ranges report what the stream no longer holds") {
  auto m = sample();
  // Asked (10, 20]: the stream starts at 14 (older entries trimmed) and ends at 16.
  auto r = array({entry(14, m), entry(15, m), entry(16, m)});
  auto res = parse_range(r, "lobby", 10, 20, 100, 1 << 20);
  REQUIRE(res.ok);
  REQUIRE(res.messages.size() == 3);
  CHECK(res.messages[0].seq == 14);
  CHECK(res.messages[2].seq == 16);
  using range = std::pair<uint64_t, uint64_t>;
  CHECK(res.missing == std::vector<range>{{11, 13}, {17, 20}});
  CHECK_FALSE(res.truncated);

  // A full page is truncated: nothing is claimed missing past it.
  res = parse_range(r, "lobby", 13, 0, 3, 1 << 20);
  REQUIRE(res.ok);
  CHECK(res.truncated);
  CHECK(res.missing.empty());

  // An unreadable entry is reported missing, the rest is kept.
  auto broken = array({entry(11, m), array({str("12-0"), array({str("m"), str("junk")})}),
                       entry(13, m)});
  res = parse_range(broken, "lobby", 10, 13, 100, 1 << 20);
  REQUIRE(res.ok);
  CHECK(res.messages.size() == 2);
  CHECK(res.missing == std::vector<range>{{12, 12}});
  CHECK_FALSE(res.error.empty());

  // Another room's entry, out-of-order ids, ids outside the range: refused or missing.
  CHECK(parse_range(array({entry(11, m)}), "other", 10, 11, 100, 1 << 20).missing
        == std::vector<range>{{11, 11}});
  CHECK_FALSE(parse_range(array({entry(12, m), entry(11, m)}), "lobby", 10, 0, 100, 1 << 20).ok);
  CHECK_FALSE(parse_range(array({entry(21, m)}), "lobby", 10, 20, 100, 1 << 20).ok);
  CHECK_FALSE(parse_range(array({entry(10, m)}), "lobby", 10, 20, 100, 1 << 20).ok);
  CHECK_FALSE(parse_range(array({entry(11, m), entry(12, m)}), "lobby", 10, 0, 1, 1 << 20).ok);

  // Seqs come from INCR (at most 2^63 - 1): a larger entry id is refused, so that the next
  // expected seq cannot wrap to 0 and let older entries and ranges from 0 through.
  uint64_t top = uint64_t(INT64_MAX);
  CHECK_FALSE(parse_range(array({entry(UINT64_MAX, m), entry(5, m)}), "lobby", 0, 0, 100, 1 << 20)
                .ok);
  CHECK_FALSE(parse_range(array({entry(top + 1, m)}), "lobby", 0, 0, 100, 1 << 20).ok);
  CHECK(parse_range(array({entry(top, m)}), "lobby", 0, 0, 100, 1 << 20).ok);
}

TEST_CASE("EVALSHA is rewritten to EVAL with the same keys and arguments") {
  script s("return {KEYS[1], ARGV[1]}");
  CHECK(s.sha().size() == 40);
  std::string sha;
  s.append_evalsha(sha, {"k"}, {"a\r\nb"});
  std::string eval;
  append_command(eval, {"EVAL", s.text(), "1", "k", "a\r\nb"});
  CHECK(s.to_eval(sha) == eval);
  CHECK(s.to_eval("*1\r\n$4\r\nPING\r\n").empty());
  script other("return 1");
  CHECK(other.to_eval(sha).empty());
}

TEST_CASE("redis URIs: single servers, clusters, credentials; bad ones say why") {
  config::redis_uri u;
  REQUIRE(config::parse_redis_uri("redis://127.0.0.1:6380/2", u).empty());
  CHECK_FALSE(u.cluster);
  CHECK(u.hosts.size() == 1);
  CHECK(u.hosts[0].port == 6380);
  CHECK(u.db == 2);
  REQUIRE(config::parse_redis_uri("redis+cluster://a:7000,b,[::1]:7002", u).empty());
  CHECK(u.cluster);
  REQUIRE(u.hosts.size() == 3);
  CHECK(u.hosts[1].port == 6379);
  CHECK(u.hosts[2].host == "::1");
  REQUIRE(config::parse_redis_uri("redis://bob:p%40ss@h:1", u).empty());
  CHECK(u.user == "bob");
  CHECK(u.password == "p@ss");
  REQUIRE(config::parse_redis_uri("redis://:secret@h", u).empty());
  CHECK(u.user.empty());
  CHECK(u.password == "secret");
  for (auto bad : {"http://h", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x",
                   "redis://h/x", "redis+cluster://h/1", "redis://h,", "redis://a b",
                   "redis://user@h", "redis://:@h", "redis://:%zz@h", "redis://[::1"})
    CHECK_FALSE(config::parse_redis_uri(bad, u).empty());
}
