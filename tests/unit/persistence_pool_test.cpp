// Unit: the persistence pool's batching and flush rules on a real SQLite store — a batch
// is committed at storage.batch-max messages or after storage.batch-delay, whichever comes
// first; a room's messages keep their order; persisted acks follow the commit; a failing
// store is retried with nothing lost; seq reservations are written ahead of the messages
// and given back; at shutdown what a failing store did not take is handed back.
#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "net/native_codec.hpp"
#include "storage/sqlite_store.hpp"

#include "tests/support/eventually.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace chat;
using chat::test::eventually;

namespace {

// A real SQLite store that records the size of every committed batch and can be made to
// fail on demand (as a full disk or a lost connection would).
class observed_store : public storage::message_store {
public:
  explicit observed_store(const std::string& dir) : real_(dir, nullptr) {}
  size_t insert_batch(const std::vector<storage::stored_message>& b) override {
    if (fail_.load())
      throw storage::store_error("injected failure");
    auto n = real_.insert_batch(b);
    std::lock_guard<std::mutex> g(mtx_);
    sizes_.push_back(b.size());
    return n;
  }
  std::vector<storage::stored_message> history(const std::string& r, uint64_t b,
                                               uint32_t l) override {
    return real_.history(r, b, l);
  }
  std::vector<storage::stored_message> since(const std::string& r, uint64_t a,
                                             uint32_t l) override {
    return real_.since(r, a, l);
  }
  uint64_t last_seq(const std::string& r) override { return real_.last_seq(r); }
  uint64_t find_cid(const std::string& r, const std::string& u, const std::string& c) override {
    return real_.find_cid(r, u, c);
  }
  bool reachable() override { return real_.reachable(); }
  uint64_t read_mark(const std::string& r) override { return real_.read_mark(r); }
  void write_marks(const std::vector<storage::seq_mark>& m) override {
    if (fail_.load())
      throw storage::store_error("injected failure");
    real_.write_marks(m);
  }
  std::vector<storage::cid_entry> recent_cids(const std::string& r, uint32_t l) override {
    return real_.recent_cids(r, l);
  }
  std::vector<uint32_t> key_ids() override { return real_.key_ids(); }
  uint64_t prune_messages(int64_t b, uint32_t l) override { return real_.prune_messages(b, l); }

  std::vector<size_t> sizes() {
    std::lock_guard<std::mutex> g(mtx_);
    return sizes_;
  }
  static inline std::atomic<bool> fail_{false};

private:
  storage::sqlite_store real_;
  std::mutex mtx_;
  std::vector<size_t> sizes_;
};

struct acks : outbound {
  std::mutex mtx;
  size_t count = 0;
  bool push(frame_ptr) override {
    std::lock_guard<std::mutex> g(mtx);
    ++count;
    return true;
  }
  void close(uint16_t, const std::string&) override {}
  uint64_t queued_bytes() const override { return 0; }
  size_t get() {
    std::lock_guard<std::mutex> g(mtx);
    return count;
  }
};


struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::string dir;
  observed_store* writer_store = nullptr;
  std::unique_ptr<persistence_pool> pool;

  // `lazy` (storage.lazy-delay) defaults to `delay`: one delay for every batch.
  void start(uint32_t batch_max, config::micros delay, config::micros lazy = {}) {
    cfg.set("scheduler.policy", caf::atom("sharing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    char tmpl[] = "/tmp/chat-pool-XXXXXX";
    dir = mkdtemp(tmpl);
    config::node_config nc;
    nc.writers = 1;
    nc.batch_max = batch_max;
    nc.batch_delay = delay;
    nc.lazy_delay = lazy.count() ? lazy : delay;
    int made = 0;
    pool = std::make_unique<persistence_pool>(
      *sys, nc,
      [&]() -> std::unique_ptr<storage::message_store> {
        auto s = std::make_unique<observed_store>(dir);
        if (made++ == 0)
          writer_store = s.get(); // the pool's only writer
        return s;
      },
      [&] { return std::make_unique<storage::sqlite_store>(dir, nullptr); });
  }
  ~fixture() {
    observed_store::fail_ = false;
    if (pool)
      pool->flush_and_stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    pool.reset();
    if (!dir.empty())
      std::filesystem::remove_all(dir);
    sys->await_all_actors_done();
  }
  // Reads what the writer committed, through a connection of its own.
  storage::sqlite_store& reader() {
    if (!reader_)
      reader_ = std::make_unique<storage::sqlite_store>(dir, nullptr);
    return *reader_;
  }
  std::unique_ptr<storage::sqlite_store> reader_;
  chat_message msg(uint64_t seq) {
    return chat_message{"room", seq, "u", "c" + std::to_string(seq), "text", 1};
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a full batch is committed at batch-max") {
  start(100, std::chrono::seconds(30));
  for (uint64_t s = 1; s <= 250; ++s)
    pool->store(msg(s), nullptr, "");
  REQUIRE(eventually([&] { return writer_store->sizes().size() >= 2; }));
  CHECK(writer_store->sizes()[0] == 100);
  CHECK(writer_store->sizes()[1] == 100);
  // The remaining 50 wait for the (long) delay: not committed yet.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(writer_store->sizes().size() == 2);
  CHECK(pool->stats().backlog == 50);
}

TEST_CASE_METHOD(fixture, "a partial batch is committed after batch-delay") {
  start(1000, std::chrono::milliseconds(20));
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t s = 1; s <= 7; ++s)
    pool->store(msg(s), nullptr, "");
  REQUIRE(eventually([&] { return !writer_store->sizes().empty(); }));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(writer_store->sizes()[0] == 7);
  CHECK(took >= std::chrono::milliseconds(15));
  CHECK(reader().last_seq("room") == 7);
  auto h = reader().history("room", 0, 10);
  REQUIRE(h.size() == 7);
  CHECK(h.front().seq == 1);
  CHECK(h.back().seq == 7);
}

TEST_CASE_METHOD(fixture, "a batch nobody waits on waits for lazy-delay; a waiting ack cuts it short") {
  start(1000, std::chrono::milliseconds(10), std::chrono::seconds(30));
  for (uint64_t s = 1; s <= 5; ++s)
    pool->store(msg(s), nullptr, "");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(writer_store->sizes().empty());
  auto out = std::make_shared<acks>();
  member_ref to{1, "u", out, &net::native_encoder::instance()};
  auto t0 = std::chrono::steady_clock::now();
  pool->store(msg(6), &to, "");
  REQUIRE(eventually([&] { return out->get() == 1; }));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  REQUIRE(writer_store->sizes().size() == 1);
  CHECK(writer_store->sizes()[0] == 6);
  // Nothing waits any more: what comes next waits for the lazy delay again.
  pool->store(msg(7), nullptr, "");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(writer_store->sizes().size() == 1);
  CHECK(pool->stats().backlog == 1);
}

TEST_CASE_METHOD(fixture, "persisted acks follow the commit; a failing store loses nothing") {
  start(50, std::chrono::milliseconds(2));
  auto out = std::make_shared<acks>();
  member_ref to{1, "u", out, &net::native_encoder::instance()};
  observed_store::fail_ = true;
  for (uint64_t s = 1; s <= 120; ++s)
    pool->store(msg(s), &to, "");
  REQUIRE(eventually([&] { return pool->stats().failures >= 2; }));
  CHECK(out->get() == 0);
  CHECK_FALSE(pool->healthy());
  observed_store::fail_ = false;
  REQUIRE(eventually([&] { return out->get() == 120; }));
  CHECK(pool->healthy());
  CHECK(pool->stats().backlog == 0);
  CHECK(reader().last_seq("room") == 120);
  CHECK(pool->stats().stored == 120);
  auto h = reader().history("room", 0, 500);
  REQUIRE(h.size() == 120);
  for (size_t i = 0; i < h.size(); ++i)
    CHECK(h[i].seq == i + 1);
  auto sizes = writer_store->sizes();
  REQUIRE_FALSE(sizes.empty());
  size_t committed = 0;
  for (auto size : sizes) {
    CHECK(size <= 50);
    committed += size;
  }
  CHECK(committed == 120);
}

TEST_CASE_METHOD(fixture, "seq reservations are written at once and given back only if unchanged") {
  start(1000, std::chrono::seconds(30));
  pool->store(msg(1), nullptr, "");
  pool->reserve({}, "room", 100);
  // Written alone: the lazy batch of messages keeps waiting for its delay.
  REQUIRE(eventually([&] { return reader().read_mark("room") == 100; }));
  CHECK(pool->details().mark_writes.load() >= 1);
  CHECK(writer_store->sizes().empty());
  pool->reserve({}, "room", 50); // never lowered by a reservation
  pool->release("room", 99, 10); // not the current mark: nothing happens
  pool->release("room", 100, 40);
  REQUIRE(eventually([&] { return reader().read_mark("room") == 40; }));
  pool->reserve({}, "other", 7);
  REQUIRE(eventually([&] { return reader().read_mark("other") == 7; }));
  CHECK(reader().read_mark("room") == 40);
}

TEST_CASE_METHOD(fixture, "at shutdown what a failing store did not take is handed back") {
  start(1000, std::chrono::milliseconds(2));
  for (uint64_t s = 1; s <= 10; ++s)
    pool->store(msg(s), nullptr, "");
  REQUIRE(eventually([&] { return reader().last_seq("room") == 10; }));
  observed_store::fail_ = true;
  for (uint64_t s = 11; s <= 30; ++s)
    pool->store(msg(s), nullptr, "");
  REQUIRE(eventually([&] { return pool->stats().failures >= 1; }));
  auto t0 = std::chrono::steady_clock::now();
  auto left = pool->flush_and_stop(t0 + std::chrono::milliseconds(300));
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= std::chrono::milliseconds(250));
  CHECK(took < std::chrono::seconds(5));
  REQUIRE(left.messages.size() == 20);
  for (size_t i = 0; i < left.messages.size(); ++i)
    CHECK(left.messages[i].seq == 11 + i);
  CHECK(pool->stats().backlog == 0);
  pool.reset();
}
