// Unit: room ordering and dedupe — the room actor numbers messages gap-free in arrival
// order, hands every member the same encoded buffer, and acks a repeated cid with its
// original seq. Runs the real room actor; members are recording outbound queues.
#include "actors/cid_index.hpp"
#include "actors/dedupe_window.hpp"
#include "actors/node_context.hpp"
#include "actors/sequencer.hpp"
#include "net/native_codec.hpp"
#include "tests/support/recording_outbound.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <deque>
#include <map>
#include <random>
#include <thread>

using namespace chat;

namespace {

// Native frames, waited for by op.
struct recording_outbound : test::recording_outbound {
  // Waits until `n` frames with op `op` arrived; returns their JSON documents.
  std::vector<std::shared_ptr<rapidjson::Document>> wait_for(const std::string& op, size_t n) {
    std::vector<std::shared_ptr<rapidjson::Document>> out;
    auto parse = [](const std::string& f) {
      size_t header = (uint8_t(f[1]) & 0x7f) == 126 ? 4 : 2;
      auto d = std::make_shared<rapidjson::Document>();
      d->Parse(f.data() + header, f.size() - header);
      return d;
    };
    auto with_op = [&](const std::string& f) { return (*parse(f))["op"] == op.c_str(); };
    for (auto& f : wait_for_frames(with_op, n))
      out.push_back(parse(*f));
    return out;
  }
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<node_context> ctx;

  fixture() {
    cfg.set("scheduler.policy", caf::atom("sharing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    config::node_config nc;
    nc.backend = "memory";
    nc.dedupe_window = 100;
    ctx = make_node_context(*sys, nc);
  }
  ~fixture() {
    for (auto& room : ctx->rooms.actors())
      caf::anon_send_exit(room, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ctx->presence, caf::exit_reason::user_shutdown);
    sys->await_all_actors_done();
  }

  member_ref member(uint64_t id, const std::string& user,
                    std::shared_ptr<recording_outbound> out) {
    return member_ref{id, user, out, &net::native_encoder::instance()};
  }
};

} // namespace

TEST_CASE("the local sequencer numbers gap-free from the stored maximum") {
  local_sequencer s;
  std::vector<uint64_t> seen;
  s.start(
    41,
    [&](chat_message&& m, uint64_t ticket) {
      CHECK(ticket != sequencer::remote);
      seen.push_back(m.seq);
    },
    {});
  for (uint64_t i = 1; i <= 3; ++i)
    s.submit(chat_message{}, i);
  CHECK(seen == std::vector<uint64_t>{42, 43, 44});
  CHECK(s.last_seq() == 44);
}

TEST_CASE("the dedupe window remembers the newest cids and forgets the oldest") {
  dedupe_window w(3);
  w.insert("u", "a", 1, 11);
  w.insert("u", "b", 2, 12);
  w.insert("v", "a", 3, 13);
  CHECK(w.find("u", "a").seq == 1);
  CHECK(w.find("u", "a").text == 11);
  CHECK(w.find("v", "a").seq == 3);
  CHECK(w.find("v", "b").seq == 0);
  w.insert("u", "a", 99, 99); // a repeat keeps its first seq and text
  CHECK(w.find("u", "a").seq == 1);
  CHECK(w.find("u", "a").text == 11);
  w.insert("u", "c", 4, 14);
  CHECK(w.find("u", "a").seq == 0);
  w.insert("u", "d", 5, 15);
  w.insert("u", "e", 6, 16);
  CHECK(w.find("u", "b").seq == 0);
  CHECK(w.find("v", "a").seq == 0);
  CHECK(w.find("u", "e").seq == 6);
  CHECK(w.size() == 3);
}

TEST_CASE("the dedupe window agrees with a plain model over many inserts and evictions") {
  // Small capacities wrap the ring and grow the index many times; few distinct users and
  // cids make repeats, and splits like ("ab", "c") / ("a", "bc") must stay apart.
  for (size_t capacity : {1, 2, 7, 64, 1000}) {
    dedupe_window w(capacity);
    std::map<std::pair<std::string, std::string>, dedupe_window::entry> model;
    std::deque<std::pair<std::string, std::string>> order;
    std::mt19937 rng{static_cast<uint32_t>(capacity)};
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    for (uint64_t seq = 1; seq <= 20000; ++seq) {
      auto user = std::string(size_t(pick(3)), 'a') + (pick(2) ? "b" : "");
      auto cid = (pick(2) ? "b" : "") + std::to_string(pick(int(capacity) * 3 + 5));
      if (pick(5) == 0)
        cid = std::string(40, 'x') + cid; // longer than the small-string buffer
      auto key = std::make_pair(user, cid);
      uint64_t text = 1 + uint64_t(pick(4));
      auto got = w.find(user, cid);
      auto it = model.find(key);
      REQUIRE(got.seq == (it == model.end() ? 0 : it->second.seq));
      REQUIRE(got.text == (it == model.end() ? 0 : it->second.text));
      w.insert(user, cid, seq, text);
      if (it == model.end()) {
        model.emplace(key, dedupe_window::entry{seq, text});
        order.push_back(key);
        if (order.size() > capacity) {
          model.erase(order.front());
          order.pop_front();
        }
      }
      REQUIRE(w.size() == model.size());
    }
    for (auto& [key, e] : model)
      CHECK(w.find(key.first, key.second).seq == e.seq);
  }
  dedupe_window w(4);
  w.insert("ab", "c", 1, 1);
  CHECK(w.find("a", "bc").seq == 0);
  CHECK(w.find("ab", "c").seq == 1);
}

TEST_CASE("the local sequencer holds messages past its limit until it rises") {
  local_sequencer s;
  std::vector<uint64_t> seen;
  s.start(10, [&](chat_message&& m, uint64_t) { seen.push_back(m.seq); }, {});
  s.limit(12);
  for (uint64_t i = 1; i <= 4; ++i)
    s.submit(chat_message{}, i);
  CHECK(seen == std::vector<uint64_t>{11, 12});
  CHECK(s.waiting() == 2);
  s.limit(13);
  CHECK(seen == std::vector<uint64_t>{11, 12, 13});
  s.limit(100);
  CHECK(seen == std::vector<uint64_t>{11, 12, 13, 14});
  CHECK(s.waiting() == 0);
}

TEST_CASE("the cid index tells repeats from conflicts across rooms") {
  cid_index idx(1024);
  CHECK(idx.claim("u", "1", 7, 100) == cid_index::verdict::fresh);
  CHECK(idx.claim("u", "1", 7, 100) == cid_index::verdict::same);
  CHECK(idx.claim("u", "1", 7, 101) == cid_index::verdict::conflict); // another text
  CHECK(idx.claim("u", "1", 8, 100) == cid_index::verdict::conflict); // another room
  CHECK(idx.claim("v", "1", 8, 100) == cid_index::verdict::fresh);    // another user
  idx.release("v", "1", 8, 101); // held for another text: kept
  CHECK(idx.claim("v", "1", 8, 101) == cid_index::verdict::conflict);
  idx.release("v", "1", 8, 100); // refused elsewhere: forgotten
  CHECK(idx.claim("v", "1", 8, 101) == cid_index::verdict::fresh);
  cid_index off(0);
  CHECK(off.claim("u", "1", 7, 100) == cid_index::verdict::fresh);
  CHECK(off.claim("u", "1", 8, 100) == cid_index::verdict::fresh);
}

TEST_CASE_METHOD(fixture, "concurrent senders: every member sees one gap-free order") {
  constexpr int senders = 4, per_sender = 250;
  auto room = ctx->rooms.get_or_spawn("r");
  std::vector<std::shared_ptr<recording_outbound>> outs;
  for (int i = 0; i < senders; ++i) {
    outs.push_back(std::make_shared<recording_outbound>());
    caf::anon_send(room, r_join_atom::value,
                   join_request{member(uint64_t(i + 1), "u" + std::to_string(i), outs.back()),
                                {}, false, 0, ""});
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < senders; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < per_sender; ++k)
        caf::anon_send(room, r_send_atom::value,
                       send_request{member(uint64_t(i + 1), "u" + std::to_string(i), outs[size_t(i)]),
                                    std::to_string(k), "t", false, ""});
    });
  for (auto& t : threads)
    t.join();
  std::vector<const std::string*> first_member_frames;
  for (auto& out : outs) {
    auto msgs = out->wait_for("msg", senders * per_sender);
    REQUIRE(msgs.size() == senders * per_sender);
    for (size_t i = 0; i < msgs.size(); ++i)
      REQUIRE((*msgs[i])["seq"].GetUint64() == i + 1);
    CHECK(out->wait_for("ack", per_sender).size() == per_sender);
  }
  // The same encoded buffer went to every member.
  std::lock_guard<std::mutex> g0(outs[0]->mtx);
  std::lock_guard<std::mutex> g1(outs[1]->mtx);
  size_t shared = 0;
  for (auto& f : outs[0]->frames)
    for (auto& g : outs[1]->frames)
      shared += f.get() == g.get();
  CHECK(shared >= senders * per_sender);
}

TEST_CASE_METHOD(fixture, "a repeated cid is acked with its original seq and not delivered; "
                          "with another text it is a conflict") {
  auto room = ctx->rooms.get_or_spawn("d");
  auto a = std::make_shared<recording_outbound>();
  auto b = std::make_shared<recording_outbound>();
  caf::anon_send(room, r_join_atom::value, join_request{member(1, "a", a), {}, false, 0, ""});
  caf::anon_send(room, r_join_atom::value, join_request{member(2, "b", b), {}, false, 0, ""});
  caf::anon_send(room, r_send_atom::value, send_request{member(1, "a", a), "x", "one", false, ""});
  caf::anon_send(room, r_send_atom::value, send_request{member(1, "a", a), "y", "two", false, ""});
  caf::anon_send(room, r_send_atom::value, send_request{member(1, "a", a), "x", "one", false, ""});
  caf::anon_send(room, r_send_atom::value, send_request{member(1, "a", a), "x", "other", false, ""});
  // The same cid from another user is a different message.
  caf::anon_send(room, r_send_atom::value, send_request{member(2, "b", b), "x", "b's", false, ""});
  auto acks = a->wait_for("ack", 3);
  REQUIRE(acks.size() == 3);
  CHECK((*acks[0])["seq"].GetUint64() == 1);
  CHECK((*acks[1])["seq"].GetUint64() == 2);
  CHECK((*acks[2])["seq"].GetUint64() == 1);
  auto errors = a->wait_for("error", 1);
  REQUIRE(errors.size() == 1);
  CHECK(std::string((*errors[0])["code"].GetString()) == "conflict");
  auto msgs = b->wait_for("msg", 3);
  REQUIRE(msgs.size() == 3);
  CHECK(std::string((*msgs[2])["text"].GetString()) == "b's");
  CHECK((*msgs[2])["seq"].GetUint64() == 3);
}
