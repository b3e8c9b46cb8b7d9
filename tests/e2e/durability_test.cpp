// End-to-end: never silently wrong. No seq names two messages after kill -9; a SIGTERM
// while the store fails (a real file-size limit on the node, as a full disk would) saves
// what is pending in a recovery file, exits non-zero saying how many, and the next start
// stores it first; a repeated cid with another text is a `conflict`; a store encrypted
// under keys the node lacks refuses to start; a body that fails to decrypt is an error
// with a metric, never a short page; retention prunes the access log and old messages.
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/resource.h>
#include <thread>

using namespace chat::test;
namespace fs = std::filesystem;

namespace {

std::string sqlite(const std::string& db, const std::string& sql) {
  auto out = make_temp_dir() + "/out.txt";
  auto cmd = "sqlite3 " + db + " \"" + sql + "\" > " + out + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> recovery_files(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("recovery-", 0) == 0)
      out.push_back(e.path().string());
  return out;
}

} // namespace

TEST_CASE("after kill -9 with seq-acked messages in the lazy window no seq is reused") {
  auto dir = make_temp_dir();
  {
    node_process node({"--storage.lazy-delay=60s"}, dir);
    ws_client w(node.port(), "user=w");
    w.join("lazy");
    for (int base = 1; base <= 2000; base += 250) { // within the rate limit's burst
      for (int i = base; i < base + 250; ++i)
        w.send(send_frame("lazy", "lost " + std::to_string(i), "c" + std::to_string(i)));
      for (int i = base; i < base + 250; ++i)
        REQUIRE(w.next_op("ack").u64("seq") == uint64_t(i));
    }
    REQUIRE(metric(node.admin_port(), "chat_store_messages_total") == 0);
    node.kill9();
  }
  node_process node({}, dir);
  ws_client w(node.port(), "user=w");
  auto joined = w.join("lazy").u64("seq");
  CHECK(joined >= 2000);
  w.send(send_frame("lazy", "after the crash", "new-1", "persisted"));
  auto seq = w.next_op("ack").u64("seq");
  CHECK(seq > 2000);
  CHECK(seq == joined + 1);
  // The lost seqs are a gap: history and since skip them, never a different message.
  auto h = history_of(w, "lazy");
  REQUIRE(h.size() == 1);
  CHECK(h[0] == std::make_pair(seq, std::string("after the crash")));
  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"lazy","since":1500})");
  late.next_op("joined");
  CHECK(late.next_op("msg").u64("seq") == seq);
}

TEST_CASE("SIGTERM while the store fails saves a recovery file; the next start stores it") {
  auto dir = make_temp_dir();
  std::map<uint64_t, std::string> acked;
  {
    node_process node({"--storage.shutdown-timeout=1s"}, dir);
    ws_client w(node.port(), "user=w");
    w.join("full");
    // 300 persisted messages of 1 KB: the WAL grows past a few hundred KB.
    std::map<std::string, std::string> texts;
    for (int i = 1; i <= 300; ++i) {
      auto text = std::to_string(i) + std::string(1000, 'x');
      texts["c" + std::to_string(i)] = text;
      w.send(send_frame("full", text, "c" + std::to_string(i), "persisted"));
    }
    for (int i = 1; i <= 300; ++i) {
      auto ack = w.next_op("ack");
      acked[ack.u64("seq")] = texts.at(ack.str("cid"));
    }
    // The disk is "full": no file of the node may grow past its current WAL size (a real
    // RLIMIT_FSIZE on the process; writes beyond it fail with EFBIG like ENOSPC would).
    auto limit = fs::file_size(dir + "/chat.db-wal");
    rlimit lim{limit, limit};
    REQUIRE(prlimit(node.pid(), RLIMIT_FSIZE, &lim, nullptr) == 0);
    for (int i = 301; i <= 400; ++i) {
      auto text = "pending " + std::to_string(i);
      w.send(send_frame("full", text, "c" + std::to_string(i)));
      acked[w.next_op("ack").u64("seq")] = text;
    }
    REQUIRE(eventually([&] { return metric(node.admin_port(), "chat_store_failures_total") > 0; }));
    w.close();
    int rc = node.stop();
    auto err = node.stderr_text();
    INFO(err);
    CHECK(rc == 3);
    CHECK(err.find("saved 100 messages to " + dir + "/recovery-") != std::string::npos);
    CHECK(err.find("chatd: stopped") == std::string::npos);
  }
  REQUIRE(recovery_files(dir).size() == 1);
  node_process node({}, dir);
  CHECK(recovery_files(dir).empty());
  CHECK(node.stderr_text().find("stored 100 messages saved at the last shutdown") != std::string::npos);
  ws_client r(node.port(), "user=r");
  auto last = r.join("full").u64("seq");
  auto h = history_of(r, "full");
  REQUIRE(h.size() == 400);
  for (auto& [seq, text] : h)
    REQUIRE(acked.at(seq) == text);
  // Numbering continues above everything handed out before.
  r.send(send_frame("full", "next", "next-1", "persisted"));
  auto next = r.next_op("ack").u64("seq");
  CHECK(next == last + 1);
  CHECK(next > 400);
}

TEST_CASE("a repeated cid with another text, or in another room, is a conflict") {
  node_process node;
  ws_client tab1(node.port(), "user=alice");
  ws_client tab2(node.port(), "user=alice");
  ws_client bob(node.port(), "user=bob");
  for (auto* c : {&tab1, &tab2, &bob})
    c->join("r");
  tab1.send(send_frame("r", "from tab 1", "1"));
  CHECK(tab1.next_op("ack").u64("seq") == 1);
  tab2.send(R"({"op":"send","room":"r","text":"from tab 2","cid":"1","rid":7})");
  auto err = tab2.next_op("error");
  CHECK(err.str("code") == "conflict");
  CHECK(err.u64("rid") == 7);
  // The same text is a retry: acked with the original seq, not delivered again.
  tab2.send(send_frame("r", "from tab 1", "1"));
  CHECK(tab2.next_op("ack").u64("seq") == 1);
  // Another room, same cid: a conflict too (cids are unique per user).
  tab2.join("other");
  tab2.send(send_frame("other", "from tab 1", "1"));
  CHECK(tab2.next_op("error").str("code") == "conflict");
  // Another user's cid "1" is theirs. Bob saw exactly two messages, in order.
  bob.send(send_frame("r", "bob's", "1"));
  std::vector<std::string> seen;
  for (auto f = bob.next(); f.op() != "ack"; f = bob.next())
    if (f.op() == "msg")
      seen.push_back(f.str("text"));
  CHECK(seen == std::vector<std::string>{"from tab 1", "bob's"});
  CHECK(metric(node.admin_port(), "chat_cid_conflicts_total") == 2);
  CHECK(http_get(node.admin_port(), "/metrics").body.find("chat_errors_total{code=\"conflict\"} 2")
        != std::string::npos);
}

TEST_CASE("a store encrypted under keys the node lacks refuses to start, naming them") {
  auto dir = make_temp_dir();
  auto keys = make_temp_dir();
  auto k3 = key_file(keys, 3), k4 = key_file(keys, 4);
  std::string out;
  {
    node_process node({"--security.at-rest-keys=" + k3}, dir);
    ws_client w(node.port(), "user=w");
    w.join("secret");
    for (int i = 1; i <= 300; ++i)
      w.send(send_frame("secret", "s" + std::to_string(i), "c" + std::to_string(i), "persisted"));
    for (int i = 1; i <= 300; ++i)
      w.next_op("ack");
    w.close();
    CHECK(node.stop() == 0);
  }
  auto base = std::vector<std::string>{
    "--config-file=" + std::string(CHAT_SOURCE_DIR) + "/tests/support/test-node.conf",
    "--net.port=0", "--admin.port=0", "--storage.path=" + dir};
  auto without = base;
  int rc = run_chatd(without, out, 20);
  INFO(out);
  CHECK(rc == 2);
  CHECK(out.find("key id 3") != std::string::npos);
  CHECK(out.find("security.at-rest-keys is not set") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  auto wrong = base;
  wrong.push_back("--security.at-rest-keys=" + k4);
  rc = run_chatd(wrong, out, 20);
  CHECK(rc == 2);
  CHECK(out.find("key id 3") != std::string::npos);
  CHECK(out.find(k4 + " does not hold") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  // With the key, all 300 are there.
  node_process node({"--security.at-rest-keys=" + k3}, dir);
  ws_client r(node.port(), "user=r");
  r.join("secret");
  CHECK(history_of(r, "secret").size() == 300);
}

TEST_CASE("a body that fails to decrypt is an error and a metric, never a short page") {
  auto dir = make_temp_dir();
  std::vector<std::string> args = {"--security.at-rest-keys=" + key_file(make_temp_dir(), 1)};
  {
    node_process node(args, dir);
    ws_client w(node.port(), "user=w");
    w.join("tampered");
    for (int i = 1; i <= 20; ++i) {
      w.send(send_frame("tampered", "t" + std::to_string(i), "c" + std::to_string(i),
                        "persisted"));
      w.next_op("ack");
    }
    w.close();
    CHECK(node.stop() == 0);
  }
  // Message 5 gets the body of message 4: it no longer authenticates for its row.
  sqlite(dir + "/chat.db", "UPDATE messages SET body = (SELECT body FROM messages WHERE seq = 4)"
                           " WHERE seq = 5");
  node_process node(args, dir);
  ws_client r(node.port(), "user=r");
  r.join("tampered");
  r.send(R"({"op":"history","room":"tampered","rid":"h1"})");
  auto reply = r.next();
  INFO(reply.raw);
  CHECK(reply.op() == "error");
  CHECK(reply.str("code") == "unavailable");
  CHECK(reply.str("rid") == "h1");
  CHECK(metric(node.admin_port(), "chat_decrypt_failures_total") >= 1);
  // Above the damage, history still works.
  r.send(R"({"op":"history","room":"tampered","before":21,"limit":10})");
  CHECK(r.next_op("history").at("messages").Size() == 10);
  // A replay across it fails loudly too: the page holding it is an error (the messages
  // before it may come first), and the member is out so that its client joins again.
  ws_client late(node.port(), "user=late");
  late.send(R"({"op":"join","room":"tampered","since":0})");
  late.next_op("joined");
  auto f = late.next();
  for (uint64_t s = 1; f.op() == "msg"; ++s, f = late.next())
    CHECK(f.u64("seq") == s);
  CHECK(f.op() == "error");
  CHECK(f.str("code") == "unavailable");
  late.send(send_frame("tampered", "x", "x1"));
  CHECK(late.next_op("error").str("code") == "not_member");
  CHECK(node.stderr_text().find("cannot decrypt") != std::string::npos);
}

TEST_CASE("retention prunes old access-log rows, stale users and old messages") {
  auto dir = make_temp_dir();
  node_process node({"--storage.access-log-retention=1s", "--storage.user-retention=1s",
                     "--chat.retention=2s", "--storage.prune-interval=200ms",
                     "--storage.prune-batch=3"},
                    dir);
  {
    ws_client w(node.port(), "user=old");
    w.join("kept");
    for (int i = 1; i <= 10; ++i) {
      w.send(send_frame("kept", "old " + std::to_string(i), "c" + std::to_string(i),
                        "persisted"));
      w.next_op("ack");
    }
  }
  for (int i = 0; i < 5; ++i)
    ws_client visitor(node.port(), "user=visitor" + std::to_string(i));
  auto db = dir + "/chat.db";
  CHECK(eventually([&] { return sqlite(db, "SELECT COUNT(*) FROM access_log") == "0\n"; }));
  CHECK(eventually([&] { return sqlite(db, "SELECT COUNT(*) FROM users") == "0\n"; }));
  CHECK(eventually([&] { return sqlite(db, "SELECT COUNT(*) FROM messages") == "0\n"; }));
  auto text = http_get(node.admin_port(), "/metrics").body;
  CHECK(text.find("chat_pruned_rows_total{table=\"access_log\"} 12") != std::string::npos);
  CHECK(text.find("chat_pruned_rows_total{table=\"messages\"} 10") != std::string::npos);
  // The room's numbering survives its messages.
  ws_client w(node.port(), "user=new");
  w.join("kept");
  w.send(send_frame("kept", "new", "n1", "persisted"));
  CHECK(w.next_op("ack").u64("seq") == 11);
}
