// End-to-end: every message stored. Persisted acks survive kill -9; history and seq
// continue after a restart; a repeated cid after a restart is not stored twice; with
// encryption at rest no text is readable in the database files; a failing store makes
// persisted acks wait while live traffic flows, and everything acked reaches the store.
#include "support/http_get.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/room_history.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace chat::test;

namespace {

std::string text_of(int i) {
  return "secret-" + std::to_string(i) + "-zebra";
}

// Sends `count` messages with persisted acks, `window` in flight; returns cid -> seq.
std::map<std::string, uint64_t> send_persisted(ws_client& c, const std::string& room, int first,
                                               int count, int window = 100) {
  std::map<std::string, uint64_t> acked;
  for (int base = first; base < first + count; base += window) {
    int n = std::min(window, first + count - base);
    for (int i = base; i < base + n; ++i)
      c.send(send_frame(room, text_of(i), "c" + std::to_string(i), "persisted"));
    for (int i = 0; i < n; ++i) {
      auto ack = c.next_op("ack", std::chrono::milliseconds(30000));
      acked[ack.str("cid")] = ack.u64("seq");
    }
  }
  return acked;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void check_restart_keeps_everything(const std::vector<std::string>& extra_args,
                                    bool encrypted) {
  auto dir = make_temp_dir();
  std::map<std::string, uint64_t> acked;
  {
    node_process node(extra_args, dir);
    ws_client c(node.port(), "user=writer");
    c.join("durable");
    acked = send_persisted(c, "durable", 1, 2000);
    REQUIRE(acked.size() == 2000);
    node.kill9();
  }
  // The same byte search finds every text without encryption (so it reads where the texts
  // are) and none with it.
  auto bytes = file_bytes(dir + "/chat.db") + file_bytes(dir + "/chat.db-wal");
  int found = 0;
  for (int i = 1; i <= 2000; ++i)
    found += bytes.find(text_of(i)) != std::string::npos;
  if (encrypted) {
    CHECK(found == 0);
    CHECK(bytes.find("zebra") == std::string::npos);
  } else {
    CHECK(found == 2000);
  }
  node_process node(extra_args, dir);
  ws_client c(node.port(), "user=reader");
  // After kill -9 numbering continues above the room's durable seq reservation (at most
  // chat.seq-block above the last seq handed out): seqs in between are a gap, never reused.
  uint64_t last = c.join("durable").u64("seq");
  CHECK(last >= 2000);
  CHECK(last <= 3000);
  std::vector<std::pair<uint64_t, std::string>> history;
  full_history(c, "durable", history);
  REQUIRE(history.size() == 2000);
  for (size_t i = 0; i < history.size(); ++i) {
    REQUIRE(history[i].first == i + 1);
    REQUIRE(history[i].second == text_of(int(i + 1)));
  }
  for (auto& [cid, seq] : acked)
    REQUIRE(history[seq - 1].second == text_of(std::stoi(cid.substr(1))));

  // The next message continues the sequence; a repeated cid keeps its original seq.
  ws_client w(node.port(), "user=writer");
  w.join("durable");
  w.send(send_frame("durable", "after restart", "new-1", "persisted"));
  CHECK(w.next_op("ack").u64("seq") == last + 1);
  w.send(send_frame("durable", text_of(7), "c7", "persisted"));
  CHECK(w.next_op("ack").u64("seq") == acked["c7"]);
  full_history(c, "durable", history);
  CHECK(history.size() == 2001);

  // And a replay after reconnect from the store (older than the in-memory ring).
  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"durable","since":1990})");
  late.next_op("joined");
  for (uint64_t s = 1991; s <= 2000; ++s)
    REQUIRE(late.next_op("msg").u64("seq") == s);
  REQUIRE(late.next_op("msg").u64("seq") == last + 1);
}

// Holds SQLite's write lock on a database through the sqlite3 shell until released.
class sqlite_write_lock {
public:
  explicit sqlite_write_lock(const std::string& db) {
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      execlp("sqlite3", "sqlite3", db.c_str(), nullptr);
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    write_line("BEGIN IMMEDIATE;");
    write_line("SELECT 'locked';");
    std::string got;
    char ch;
    while (got.find("locked") == std::string::npos && read(from_, &ch, 1) == 1)
      got.push_back(ch);
    REQUIRE(got.find("locked") != std::string::npos);
  }
  void release() {
    if (pid_ <= 0)
      return;
    write_line("COMMIT;");
    write_line(".quit");
    close(to_);
    close(from_);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  ~sqlite_write_lock() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status;
      waitpid(pid_, &status, 0);
    }
  }

private:
  void write_line(const std::string& s) {
    auto line = s + "\n";
    REQUIRE(write(to_, line.data(), line.size()) == ssize_t(line.size()));
  }
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
};

} // namespace

TEST_CASE("persisted acks survive kill -9; history, seq and cids continue after restart") {
  check_restart_keeps_everything({}, false);
}

TEST_CASE("with encryption at rest no text is readable in the database files") {
  std::string key_line;
  REQUIRE(run_chatd({"--gen-key=1"}, key_line) == 0);
  auto dir = make_temp_dir();
  std::ofstream(dir + "/keys") << key_line;
  check_restart_keeps_everything({"--security.at-rest-keys=" + dir + "/keys"}, true);
}

TEST_CASE("a missing or malformed key file stops the node at start with one clear line") {
  std::string out;
  CHECK(run_chatd({"--storage.backend=memory", "--security.at-rest-keys=/nonexistent/keys"}, out) == 2);
  CHECK(out.find("/nonexistent/keys") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  auto dir = make_temp_dir();
  std::ofstream(dir + "/bad") << "1 nothex\n";
  CHECK(run_chatd({"--storage.backend=memory", "--security.at-rest-keys=" + dir + "/bad"}, out) == 2);
  INFO(out);
  CHECK(out.find("at-rest-keys") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}

TEST_CASE("a failing store makes persisted acks wait; live traffic flows; nothing is lost") {
  auto dir = make_temp_dir();
  std::map<std::string, uint64_t> acked;
  {
    node_process node({}, dir);
    ws_client writer(node.port(), "user=writer");
    ws_client watcher(node.port(), "user=watcher");
    for (auto* c : {&writer, &watcher}) {
      c->join("fragile");
    }
    CHECK(http_get(node.admin_port(), "/readyz").status == 200);
    // The first message reserves the room's first block of seqs in the store.
    acked = send_persisted(writer, "fragile", 1, 1);
    REQUIRE(watcher.next_op("msg").u64("seq") == 1);

    sqlite_write_lock lock(dir + "/chat.db");
    for (int i = 2; i <= 50; ++i)
      writer.send(send_frame("fragile", text_of(i), "c" + std::to_string(i), "persisted"));
    // Live delivery goes on while the store is failing (within the reserved block).
    for (uint64_t s = 2; s <= 50; ++s)
      REQUIRE(watcher.next_op("msg").u64("seq") == s);
    // The node reports itself not ready once a commit has failed.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 200;
    while (status == 200 && std::chrono::steady_clock::now() < deadline) {
      status = http_get(node.admin_port(), "/readyz").status;
      if (status == 200)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(status == 503);
    // A repeat of c7 waits for the commit like the original.
    writer.send(send_frame("fragile", text_of(7), "c7", "persisted"));
    // No persisted ack came while the store was failing: a pong overtakes them all.
    writer.send(R"({"op":"ping"})");
    for (auto f = writer.next(); f.op() != "pong"; f = writer.next())
      REQUIRE(f.op() != "ack");
    lock.release();
    // Once the store is back every message is acked, with its seq, the repeat too.
    int c7_acks = 0;
    for (int i = 2; i <= 51; ++i) {
      auto ack = writer.next_op("ack", std::chrono::milliseconds(30000));
      acked[ack.str("cid")] = ack.u64("seq");
      c7_acks += ack.str("cid") == "c7";
    }
    CHECK(c7_acks == 2);
    for (int i = 1; i <= 50; ++i)
      CHECK(acked["c" + std::to_string(i)] == uint64_t(i));
    // A retry of an acked cid from a new connection keeps its seq.
    ws_client again(node.port(), "user=writer");
    again.join("fragile");
    CHECK(send_persisted(again, "fragile", 1, 50) == acked);
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (http_get(node.admin_port(), "/readyz").status != 200
           && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(http_get(node.admin_port(), "/readyz").status == 200);
    node.kill9();
  }
  node_process node({}, dir);
  ws_client c(node.port(), "user=reader");
  auto last = c.join("fragile").u64("seq"); // killed: the rest of the reserved block is a gap
  CHECK(last >= 50);
  CHECK(last <= 1000);
  std::vector<std::pair<uint64_t, std::string>> history;
  full_history(c, "fragile", history);
  REQUIRE(history.size() == 50);
}

// chat_store_messages_total from the node's /metrics.
double stored_count(node_process& node) {
  auto m = http_get(node.admin_port(), "/metrics").body;
  auto at = m.find("\nchat_store_messages_total ");
  REQUIRE(at != std::string::npos);
  return std::stod(m.substr(at + 27));
}

TEST_CASE("SIGTERM commits every sequenced message, also those nobody waited for") {
  auto dir = make_temp_dir();
  {
    // A lazy delay far beyond the test: only the shutdown flush can commit these.
    node_process node({"--storage.lazy-delay=60s"}, dir);
    ws_client w(node.port(), "user=w");
    w.join("term");
    for (int i = 1; i <= 300; ++i)
      w.send(send_frame("term", text_of(i), "c" + std::to_string(i)));
    for (int i = 1; i <= 300; ++i)
      REQUIRE(w.next_op("ack").u64("seq") == uint64_t(i));
    REQUIRE(stored_count(node) == 0);
    CHECK(node.stop() == 0);
  }
  node_process node({}, dir);
  ws_client c(node.port(), "user=reader");
  CHECK(c.join("term").u64("seq") == 300);
  std::vector<std::pair<uint64_t, std::string>> history;
  full_history(c, "term", history);
  REQUIRE(history.size() == 300);
  CHECK(history.back() == std::make_pair(uint64_t(300), text_of(300)));
}

TEST_CASE("messages not yet committed stay in the room's ring: history and replay have no gap") {
  auto dir = make_temp_dir();
  // A ring of 10 and a store that cannot commit: 39 messages live only in memory.
  node_process node({"--chat.room-ring=10"}, dir);
  ws_client writer(node.port(), "user=writer");
  writer.join("lagging");
  // The first message reserves the room's first block of seqs in the store.
  send_persisted(writer, "lagging", 1, 1);
  {
    sqlite_write_lock lock(dir + "/chat.db");
    for (int i = 2; i <= 40; ++i) {
      writer.send(send_frame("lagging", text_of(i), "c" + std::to_string(i)));
      REQUIRE(writer.next_op("ack").u64("seq") == uint64_t(i));
    }
    REQUIRE(stored_count(node) == 1); // so what follows can only come from the ring
    std::vector<std::pair<uint64_t, std::string>> history;
    full_history(writer, "lagging", history);
    REQUIRE(history.size() == 40);
    for (int i = 1; i <= 40; ++i)
      CHECK(history[size_t(i - 1)] == std::make_pair(uint64_t(i), text_of(i)));
    ws_client late(node.port(), "user=late");
    late.send(R"({"op":"join","room":"lagging","since":5})");
    late.next_op("joined");
    for (uint64_t s = 6; s <= 40; ++s)
      REQUIRE(late.next_op("msg").u64("seq") == s);
  }
  // Once committed, the ring may trim to its 10 newest; ring and store still give all 40.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (stored_count(node) < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(stored_count(node) == 40);
  std::vector<std::pair<uint64_t, std::string>> history;
  full_history(writer, "lagging", history);
  REQUIRE(history.size() == 40);
  CHECK(history.front().first == 1);
  CHECK(history.back().first == 40);
}

TEST_CASE("connects, disconnects and online flags reach the user store") {
  auto dir = make_temp_dir();
  node_process node({}, dir);
  {
    ws_client alice(node.port(), "user=alice");
    ws_client bob(node.port(), "user=bob");
    bob.join("r");
    alice.send(R"({"op":"presence","users":["bob"]})");
    alice.next_op("presence");
  }
  ws_client carol(node.port(), "user=carol");
  carol.join("r");
  CHECK(node.stop() == 0); // SIGTERM flushes the user writer
  auto log = sqlite_query(dir + "/chat.db",
                          "SELECT user || ':' || event FROM access_log ORDER BY id");
  CHECK(log.find("alice:connect") != std::string::npos);
  CHECK(log.find("alice:disconnect") != std::string::npos);
  CHECK(log.find("bob:disconnect") != std::string::npos);
  CHECK(log.find("carol:connect") != std::string::npos);
  auto reasons = sqlite_query(dir + "/chat.db",
                              "SELECT reason || '@' || remote FROM access_log WHERE user='alice' "
                              "AND event='disconnect'");
  CHECK(reasons.find("client closed@127.0.0.1:") == 0);
  auto online = sqlite_query(dir + "/chat.db",
                             "SELECT username || '=' || is_online FROM users ORDER BY username");
  CHECK(online == "alice=0\nbob=0\ncarol=0\n");
}

TEST_CASE("an unreachable mongo.uri stops the node at start within the timeout") {
  std::string out;
  auto t0 = std::chrono::steady_clock::now();
  int rc = run_chatd({"--storage.backend=mongo", "--mongo.uri=mongodb://127.0.0.1:1",
                      "--mongo.connect-timeout=1s", "--net.port=0", "--admin.port=0"},
                     out);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(rc == 1);
  CHECK(took < std::chrono::seconds(5));
  CHECK(out.find("cannot reach MongoDB") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}

TEST_CASE("with no in-memory ring, since and history come from the store") {
  node_process node({"--chat.room-ring=0"});
  ws_client w(node.port(), "user=w");
  w.join("cold");
  send_persisted(w, "cold", 1, 5, 5);
  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"cold","since":2})");
  CHECK(late.next_op("joined").u64("seq") == 5);
  for (uint64_t s = 3; s <= 5; ++s)
    REQUIRE(late.next_op("msg").u64("seq") == s);
  std::vector<std::pair<uint64_t, std::string>> history;
  full_history(late, "cold", history);
  REQUIRE(history.size() == 5);
  CHECK(history[4].second == text_of(5));
}
