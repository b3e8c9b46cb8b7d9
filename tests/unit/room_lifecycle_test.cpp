// Unit: a room's lifecycle against a real SQLite store — a start-up read that fails answers
// the join `unavailable`, tells the connection, and a later join starts a fresh room; an
// idle room stops and starts again with its seq and cids; a catch-up never queues more
// than a page beyond what its member's queue has drained. Runs the real room, connection
// and persistence actors; the store readers' store can be made to fail its reads (as an
// unreachable server would), the members' queues are recording ones.
#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/store_readers.hpp"
#include "net/native_codec.hpp"
#include "storage/sqlite_store.hpp"

#include "tests/support/eventually.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace chat;
using chat::test::eventually;

namespace {

std::atomic<bool> reads_fail{false};

// A real SQLite store whose reads fail on demand.
class flaky_reads : public storage::sqlite_store {
public:
  using sqlite_store::sqlite_store;
  void check() {
    if (reads_fail.load())
      throw storage::store_error("injected read failure");
  }
  uint64_t last_seq(const std::string& r) override {
    check();
    return sqlite_store::last_seq(r);
  }
  std::vector<storage::stored_message> since(const std::string& r, uint64_t a,
                                             uint32_t l) override {
    check();
    return sqlite_store::since(r, a, l);
  }
};

// An outbound queue that records frames and counts queued bytes until the test drains it.
struct test_queue : outbound {
  mutable std::mutex mtx;
  std::condition_variable cv;
  std::vector<frame_ptr> frames;
  uint64_t queued = 0, most = 0;
  bool auto_drain = true;
  std::vector<std::pair<uint64_t, std::function<void()>>> waiters;

  bool push(frame_ptr f) override {
    std::lock_guard<std::mutex> g(mtx);
    frames.push_back(f);
    if (!auto_drain) {
      queued += f->size();
      most = std::max(most, queued);
    }
    cv.notify_all();
    return true;
  }
  void close(uint16_t, const std::string&) override {}
  uint64_t queued_bytes() const override {
    std::lock_guard<std::mutex> g(mtx);
    return queued;
  }
  void when_drained(uint64_t low, std::function<void()> ready) override {
    {
      std::lock_guard<std::mutex> g(mtx);
      if (queued > low) {
        waiters.emplace_back(low, std::move(ready));
        return;
      }
    }
    ready();
  }
  // The client read everything: the queue is empty.
  void drain() {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard<std::mutex> g(mtx);
      queued = 0;
      for (auto& w : waiters)
        ready.push_back(std::move(w.second));
      waiters.clear();
    }
    for (auto& r : ready)
      r();
  }
  std::vector<rapidjson::Document> docs(const std::string& op) {
    std::lock_guard<std::mutex> g(mtx);
    std::vector<rapidjson::Document> out;
    for (auto& f : frames) {
      size_t header = (uint8_t((*f)[1]) & 0x7f) == 126 ? 4 : 2;
      rapidjson::Document d;
      d.Parse(f->data() + header, f->size() - header);
      if (d["op"] == op.c_str())
        out.push_back(std::move(d));
    }
    return out;
  }
  bool wait_for(const std::string& op, size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (docs(op).size() < n) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }
};

command cmd(op kind, const std::string& room, const std::string& text = "",
            const std::string& cid = "") {
  command c;
  c.kind = kind;
  c.room = room;
  c.text = text;
  c.cid = cid;
  return c;
}


struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::string dir;
  std::shared_ptr<node_context> ctx;

  explicit fixture(bool storage = true, uint64_t queue_bytes = 4 << 20) {
    reads_fail = false;
    cfg.set("scheduler.policy", caf::atom("sharing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    char tmpl[] = "/tmp/chat-room-XXXXXX";
    dir = mkdtemp(tmpl);
    config::node_config nc;
    nc.backend = storage ? "sqlite" : "memory";
    nc.room_idle = std::chrono::milliseconds(50);
    nc.batch_delay = std::chrono::microseconds(500);
    nc.read_timeout = std::chrono::milliseconds(2000);
    nc.queue_bytes = queue_bytes;
    ctx = make_node_context(*sys, nc);
    if (storage) {
      auto d = dir;
      ctx->persistence = std::make_shared<persistence_pool>(
        *sys, nc, [d] { return std::make_unique<storage::sqlite_store>(d, nullptr); },
        [d] { return std::make_unique<storage::sqlite_store>(d, nullptr); });
      ctx->readers = std::make_shared<store_readers>(
        *sys, nc, [d] { return std::make_unique<flaky_reads>(d, nullptr); }, ctx->counters);
    }
  }
  ~fixture() {
    reads_fail = false;
    for (auto& room : ctx->rooms.actors())
      caf::anon_send(room, r_stop_atom::value);
    if (ctx->persistence)
      ctx->persistence->flush_and_stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    if (ctx->readers)
      ctx->readers->stop();
    caf::anon_send_exit(ctx->presence, caf::exit_reason::user_shutdown);
    for (auto& c : conns)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    sys->await_all_actors_done();
    std::filesystem::remove_all(dir);
  }

  std::vector<connection_actor> conns;
  connection_actor connect(const std::string& user, std::shared_ptr<test_queue> out) {
    connection_info info;
    info.id = ctx->next_conn_id++;
    info.user = user;
    info.out = out;
    info.enc = &net::native_encoder::instance();
    conns.push_back(spawn_connection(*ctx, info));
    return conns.back();
  }
  void run(const connection_actor& c, std::vector<command> cmds) {
    caf::anon_send(c, c_cmds_atom::value, std::move(cmds), uint32_t{0});
  }
};

} // namespace

TEST_CASE("a failed start-up read answers unavailable; a later join starts the room afresh") {
  fixture f;
  auto out = std::make_shared<test_queue>();
  auto conn = f.connect("a", out);
  reads_fail = true;
  f.run(conn, {cmd(op::join, "r")});
  REQUIRE(out->wait_for("error", 1));
  CHECK(std::string(out->docs("error")[0]["code"].GetString()) == "unavailable");
  CHECK(f.ctx->counters.room_start_failures.load() == 1);
  // The room left the directory and the connection forgot it: a send is not lost in a
  // dead room, it is refused.
  REQUIRE(eventually([&] { return f.ctx->rooms.size() == 0; }));
  f.run(conn, {cmd(op::send, "r", "t", "c1")});
  REQUIRE(out->wait_for("error", 2));
  CHECK(std::string(out->docs("error")[1]["code"].GetString()) == "not_member");
  reads_fail = false;
  f.run(conn, {cmd(op::join, "r"), cmd(op::send, "r", "t", "c1")});
  REQUIRE(out->wait_for("ack", 1));
  CHECK(out->docs("ack")[0]["seq"].GetUint64() == 1);
}

TEST_CASE("an idle room stops and starts again with its seq and its cids") {
  fixture f;
  auto out = std::make_shared<test_queue>();
  auto conn = f.connect("a", out);
  command persisted = cmd(op::send, "r", "one", "c1");
  persisted.ack_persisted = persisted.ack_given = true;
  f.run(conn, {cmd(op::join, "r"), persisted, cmd(op::leave, "r")});
  REQUIRE(out->wait_for("left", 1));
  REQUIRE(eventually([&] { return f.ctx->rooms.size() == 0; }));
  CHECK(f.ctx->counters.rooms_stopped.load() == 1);
  // Started again: seq continues; the repeat is recognised (its text read back from the
  // store), the same cid with another text is a conflict.
  f.run(conn, {cmd(op::join, "r"), cmd(op::send, "r", "one", "c1"),
               cmd(op::send, "r", "two", "c1"), cmd(op::send, "r", "three", "c3")});
  REQUIRE(out->wait_for("ack", 3));
  REQUIRE(out->wait_for("error", 1));
  auto acks = out->docs("ack");
  CHECK(acks[1]["seq"].GetUint64() + acks[2]["seq"].GetUint64() == 1 + 2);
  CHECK(std::string(out->docs("error")[0]["code"].GetString()) == "conflict");
  CHECK(out->docs("joined")[1]["seq"].GetUint64() == 1);
}

TEST_CASE("a catch-up queues at most a page beyond what the member drained") {
  constexpr uint64_t queue = 64 * 1024; // a page is a quarter of it
  fixture f(false, queue);
  auto wout = std::make_shared<test_queue>();
  auto w = f.connect("w", wout);
  std::vector<command> sends{cmd(op::join, "r")};
  for (int i = 1; i <= 100; ++i)
    sends.push_back(cmd(op::send, "r", std::to_string(i) + std::string(1000, 'x'),
                        "c" + std::to_string(i)));
  f.run(w, sends);
  REQUIRE(wout->wait_for("ack", 100));
  // 100 KB to replay into a 64 KiB queue whose client reads only when the room waits.
  auto late = std::make_shared<test_queue>();
  late->auto_drain = false;
  auto l = f.connect("late", late);
  command join = cmd(op::join, "r");
  join.has_seq = true;
  join.seq = 0;
  f.run(l, {join});
  int drains = 0;
  while (late->docs("msg").size() < 100) {
    REQUIRE(eventually([&] {
      {
        std::lock_guard<std::mutex> g(late->mtx);
        if (!late->waiters.empty())
          return true;
      }
      return late->docs("msg").size() == 100; // the last page went out
    }));
    late->drain();
    ++drains;
  }
  auto msgs = late->docs("msg");
  REQUIRE(msgs.size() == 100);
  for (size_t i = 0; i < msgs.size(); ++i)
    CHECK(msgs[i]["seq"].GetUint64() == i + 1);
  CHECK(drains >= 5);
  CHECK(late->most <= 2 * queue / 4 + 2048);
  // Caught up, it is live: the next message arrives without a drain.
  f.run(w, {cmd(op::send, "r", "live", "c-live")});
  REQUIRE(late->wait_for("msg", 101));
}
