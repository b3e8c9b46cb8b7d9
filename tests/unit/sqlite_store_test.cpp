// Unit tests for sqlite_store: queries, idempotent batches, durability across reopen,
// encryption at rest (raw file bytes), key rotation, users, access log, lock/retry, several
// instances on one directory, seq marks, key ids in use, pruning, recovery files.
#include "storage/sqlite_store.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

using namespace chat::storage;
namespace fs = std::filesystem;
using chat::test::temp_dir;

namespace {

// A second, raw connection to the same file, to look behind the store's back.
struct raw_db {
  sqlite3* db = nullptr;
  explicit raw_db(const std::string& file) { REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK); }
  ~raw_db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
  }
};

stored_message msg(const std::string& room, uint64_t seq, const std::string& user = "alice",
                   const std::string& text = "") {
  return {room, seq, user, "c" + room + std::to_string(seq),
          text.empty() ? "text " + std::to_string(seq) : text, 1000 + int64_t(seq)};
}

std::vector<uint64_t> seqs(const std::vector<stored_message>& v) {
  std::vector<uint64_t> out;
  for (const auto& m : v)
    out.push_back(m.seq);
  return out;
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::string key1 = "1 " + std::string(64, '1');
const std::string key2 = "2 " + std::string(64, '2');

std::shared_ptr<const key_ring> ring(const std::string& text) {
  return std::make_shared<const key_ring>(key_ring::parse(text, "test"));
}

using seq_list = std::vector<uint64_t>;

} // namespace

TEST_CASE("sqlite: batch insert, history, since, last_seq, find_cid", "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  CHECK(store.reachable());
  std::vector<stored_message> batch;
  for (uint64_t s = 1; s <= 10; ++s)
    batch.push_back(msg("r1", s));
  batch.push_back(msg("r2", 1, "bob"));
  store.insert_batch(batch);
  store.insert_batch({});

  CHECK(seqs(store.history("r1", 0, 3)) == seq_list{8, 9, 10});
  CHECK(seqs(store.history("r1", 8, 3)) == seq_list{5, 6, 7});
  CHECK(seqs(store.history("r1", 3, 10)) == seq_list{1, 2});
  CHECK(store.history("r1", 1, 10).empty());
  CHECK(store.history("r1", 0, 0).empty());
  CHECK(seqs(store.since("r1", 7, 10)) == seq_list{8, 9, 10});
  CHECK(seqs(store.since("r1", 0, 2)) == seq_list{1, 2});
  CHECK(store.since("r1", 10, 5).empty());
  CHECK(store.last_seq("r1") == 10);
  CHECK(store.last_seq("r2") == 1);
  CHECK(store.last_seq("nope") == 0);
  CHECK(store.find_cid("r1", "alice", "nope") == 0);
  CHECK(store.find_cid("r1", "alice", "cr13") == 3);
  CHECK(store.find_cid("r2", "alice", "cr13") == 0);
  CHECK(store.find_cid("r1", "bob", "cr13") == 0);
  CHECK(store.find_cid("r1", "alice", "") == 0);

  auto m = store.since("r2", 0, 1).at(0);
  CHECK(m.room == "r2");
  CHECK(m.seq == 1);
  CHECK(m.user == "bob");
  CHECK(m.cid == "cr21");
  CHECK(m.text == "text 1");
  CHECK(m.ts_ms == 1001);
}

TEST_CASE("sqlite: a duplicate (room, seq) is skipped, a taken (user, cid) is dropped",
          "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  std::vector<stored_message> batch{msg("r", 1), msg("r", 2)};
  CHECK(store.insert_batch(batch) == 0);
  CHECK(store.insert_batch(batch) == 0); // a retried batch is harmless

  // The message was delivered under seq 3: it is kept, without the cid seq 1 holds.
  auto same_seq = msg("r", 2, "bob", "other text");
  auto same_cid = msg("r", 3);
  same_cid.cid = "cr1";
  CHECK(store.insert_batch({same_seq, same_cid, msg("r", 4)}) == 1);
  CHECK(store.insert_batch({same_cid}) == 0); // its retry is a duplicate (room, seq)
  auto all = store.since("r", 0, 100);
  CHECK(seqs(all) == seq_list{1, 2, 3, 4});
  CHECK(all.at(1).text == "text 2");
  CHECK(all.at(2).cid.empty());
  CHECK(store.find_cid("r", "alice", "cr1") == 1);

  // Messages without a cid never collide with each other.
  auto a = msg("r", 5), b = msg("r", 6);
  a.cid.clear();
  b.cid.clear();
  store.insert_batch({a, b});
  CHECK(store.last_seq("r") == 6);
  CHECK(store.since("r", 4, 10).at(0).cid.empty());
  raw_db raw(store.file());
  CHECK(raw.scalar("SELECT COUNT(*) FROM messages") == "6");
}

TEST_CASE("sqlite: data survives reopening; directory is created", "[sqlite]") {
  temp_dir dir;
  auto nested = (dir.path / "a" / "b").string();
  {
    sqlite_store store(nested, nullptr);
    store.insert_batch({msg("r", 1), msg("r", 2)});
    store.set_online("alice", true, 5);
  }
  CHECK(fs::exists(fs::path(nested) / "chat.db"));
  sqlite_store again(nested, nullptr);
  CHECK(seqs(again.history("r", 0, 10)) == seq_list{1, 2});
  CHECK(again.is_online("alice"));
  raw_db raw(again.file());
  CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
}

TEST_CASE("sqlite: a path that cannot be a directory throws store_error", "[sqlite]") {
  temp_dir dir;
  std::ofstream(dir.path / "file") << "x";
  CHECK_THROWS_AS(sqlite_store((dir.path / "file" / "sub").string(), nullptr), store_error);
}

TEST_CASE("sqlite: encrypted bodies leave no plaintext in chat.db or chat.db-wal", "[sqlite]") {
  const std::string secret = "PLAINTEXT-MARKER-7f3a9c";
  temp_dir plain_dir, enc_dir;
  {
    sqlite_store plain(plain_dir.str(), nullptr);
    plain.insert_batch({msg("r", 1, "alice", secret)});
    // Control: without a key the marker is there, so the search below is meaningful.
    CHECK(file_bytes(plain_dir.path / "chat.db-wal").find(secret) != std::string::npos);
    raw_db raw(plain.file());
    CHECK(raw.scalar("SELECT key_id FROM messages") == "0");
  }
  sqlite_store store(enc_dir.str(), ring(key1));
  std::vector<stored_message> batch;
  for (uint64_t s = 1; s <= 50; ++s)
    batch.push_back(msg("r", s, "alice", secret + " #" + std::to_string(s)));
  store.insert_batch(batch);
  CHECK(store.history("r", 0, 1).at(0).text == secret + " #50");
  auto wal = enc_dir.path / "chat.db-wal";
  REQUIRE(fs::exists(wal));
  CHECK(fs::file_size(wal) > 0);
  CHECK(file_bytes(wal).find(secret) == std::string::npos);
  CHECK(file_bytes(enc_dir.path / "chat.db").find(secret) == std::string::npos);
  raw_db raw(store.file());
  raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  CHECK(file_bytes(enc_dir.path / "chat.db").find(secret) == std::string::npos);
  CHECK(raw.scalar("SELECT COUNT(*) FROM messages WHERE key_id = 1") == "50");
}

TEST_CASE("sqlite: key rotation reads old keys, writes with the newest", "[sqlite]") {
  temp_dir dir;
  {
    sqlite_store store(dir.str(), ring(key1));
    store.insert_batch({msg("r", 1), msg("r", 2)});
  }
  {
    sqlite_store store(dir.str(), ring(key1 + "\n" + key2));
    store.insert_batch({msg("r", 3)});
    auto all = store.since("r", 0, 10);
    REQUIRE(seqs(all) == seq_list{1, 2, 3});
    CHECK(all[0].text == "text 1");
    CHECK(all[2].text == "text 3");
    raw_db raw(store.file());
    CHECK(raw.scalar("SELECT group_concat(key_id) FROM (SELECT key_id FROM messages ORDER BY seq)")
          == "1,1,2");
  }
  SECTION("a ring without the old key cannot read old rows") {
    sqlite_store store(dir.str(), ring(key2));
    CHECK(store.since("r", 2, 10).at(0).text == "text 3");
    CHECK_THROWS_AS(store.history("r", 0, 10), key_error);
  }
  SECTION("no ring at all cannot read encrypted rows") {
    sqlite_store store(dir.str(), nullptr);
    CHECK_THROWS_WITH(store.since("r", 0, 10),
                      "message r/1 is encrypted (key id 1) but no key file is configured");
  }
  SECTION("a body moved to another row fails authentication") {
    raw_db raw((dir.path / "chat.db").string());
    raw.exec("UPDATE messages SET body = (SELECT body FROM messages WHERE seq = 1) WHERE seq = 2");
    sqlite_store store(dir.str(), ring(key1 + "\n" + key2));
    CHECK(store.since("r", 0, 1).at(0).text == "text 1");
    CHECK_THROWS_AS(store.since("r", 1, 1), key_error);
  }
}

TEST_CASE("sqlite: users online flag", "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  CHECK_FALSE(store.is_online("alice"));
  store.set_online("alice", true, 100);
  CHECK(store.is_online("alice"));
  CHECK_FALSE(store.is_online("bob"));
  store.set_online("alice", false, 200);
  CHECK_FALSE(store.is_online("alice"));
  raw_db raw(store.file());
  CHECK(raw.scalar("SELECT COUNT(*) FROM users") == "1");
  CHECK(raw.scalar("SELECT last_seen FROM users WHERE username = 'alice'") == "200");
}

TEST_CASE("sqlite: access log rows", "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  store.log_access({{"alice", "n1", "10.0.0.1:5000", "connect", "", 10},
                    {"alice", "n1", "10.0.0.1:5000", "disconnect", "slow consumer", 20}});
  store.log_access({});
  raw_db raw(store.file());
  CHECK(raw.scalar("SELECT COUNT(*) FROM access_log") == "2");
  CHECK(raw.scalar("SELECT user || '|' || node || '|' || remote || '|' || event || '|' || reason"
                   " || '|' || ts FROM access_log ORDER BY ts DESC LIMIT 1")
        == "alice|n1|10.0.0.1:5000|disconnect|slow consumer|20");
}

TEST_CASE("sqlite: a locked database throws store_error, a later retry succeeds", "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr, 50);
  store.insert_batch({msg("r", 1)});
  raw_db other(store.file());
  other.exec("BEGIN IMMEDIATE");
  other.exec("INSERT INTO access_log(user, node, remote, event, reason, ts)"
             " VALUES('x', 'n', 'r', 'e', '', 0)");
  CHECK_THROWS_AS(store.insert_batch({msg("r", 2), msg("r", 3)}), store_error);
  CHECK_THROWS_AS(store.set_online("alice", true, 1), store_error);
  CHECK_THROWS_AS(store.log_access({{"a", "n", "r", "connect", "", 1}}), store_error);
  // Readers are not blocked by the writer (WAL).
  CHECK(seqs(store.history("r", 0, 10)) == seq_list{1});
  other.exec("COMMIT");
  store.insert_batch({msg("r", 2), msg("r", 3)});
  store.set_online("alice", true, 1);
  store.log_access({{"a", "n", "r", "connect", "", 1}});
  CHECK(seqs(store.history("r", 0, 10)) == seq_list{1, 2, 3});
  CHECK(store.is_online("alice"));
  CHECK(other.scalar("SELECT COUNT(*) FROM access_log") == "2");
}

TEST_CASE("sqlite: several instances on one directory write in parallel", "[sqlite]") {
  temp_dir dir;
  constexpr int writers = 4, batches = 100, per_batch = 5;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      try {
        sqlite_store store(dir.str(), ring(key1));
        auto room = "room" + std::to_string(w);
        uint64_t seq = 0;
        for (int b = 0; b < batches; ++b) {
          std::vector<stored_message> batch;
          for (int i = 0; i < per_batch; ++i)
            batch.push_back(msg(room, ++seq));
          store.insert_batch(batch);
          if (store.last_seq(room) != seq)
            ++errors;
        }
      } catch (const std::exception& e) {
        WARN(e.what());
        ++errors;
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(errors == 0);
  sqlite_store store(dir.str(), ring(key1));
  for (int w = 0; w < writers; ++w) {
    auto room = "room" + std::to_string(w);
    CHECK(store.last_seq(room) == batches * per_batch);
    CHECK(store.since(room, 0, 1000).size() == batches * per_batch);
  }
}

TEST_CASE("sqlite: seq marks are raised, never lowered, and released only if unchanged",
          "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  CHECK(store.read_mark("r") == 0);
  store.write_marks({{"r", 1000, 0}, {"s", 5, 0}});
  CHECK(store.read_mark("r") == 1000);
  store.write_marks({{"r", 500, 0}});
  CHECK(store.read_mark("r") == 1000);
  store.write_marks({{"r", 10, 999}}); // released from a mark it no longer has: no effect
  CHECK(store.read_mark("r") == 1000);
  store.write_marks({{"r", 10, 1000}});
  CHECK(store.read_mark("r") == 10);
  store.write_marks({{"nope", 3, 4}}); // no mark to release: none made
  CHECK(store.read_mark("nope") == 0);
  CHECK(store.read_mark("s") == 5);
}

TEST_CASE("sqlite: recent cids come newest-last without bodies", "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  auto no_cid = msg("r", 4);
  no_cid.cid.clear();
  store.insert_batch({msg("r", 1), msg("r", 2), msg("r", 3), no_cid, msg("x", 1)});
  auto cids = store.recent_cids("r", 3);
  REQUIRE(cids.size() == 2); // the newest three rows, one without a cid
  CHECK(cids[0].seq == 2);
  CHECK(cids[0].cid == "cr2");
  CHECK(cids[0].user == "alice");
  CHECK(cids[1].seq == 3);
  CHECK(store.recent_cids("none", 10).empty());
}

TEST_CASE("sqlite: key ids in use are kept per batch and found in older databases",
          "[sqlite]") {
  temp_dir dir;
  {
    sqlite_store store(dir.str(), nullptr);
    CHECK(store.key_ids().empty());
    store.insert_batch({msg("r", 1)});
    CHECK(store.key_ids() == std::vector<uint32_t>{0});
  }
  {
    sqlite_store store(dir.str(), ring(key1 + "\n" + key2));
    store.insert_batch({msg("r", 2)});
    CHECK(store.key_ids() == std::vector<uint32_t>{0, 2});
  }
  // A database written before key_ids existed: filled from the messages when opened.
  {
    raw_db raw((dir.path / "chat.db").string());
    raw.exec("DROP TABLE key_ids");
  }
  sqlite_store store(dir.str(), nullptr);
  CHECK(store.key_ids() == std::vector<uint32_t>{0, 2});
}

TEST_CASE("sqlite: pruning deletes old rows in batches, oldest first", "[sqlite]") {
  temp_dir dir;
  sqlite_store store(dir.str(), nullptr);
  std::vector<stored_message> batch;
  for (uint64_t s = 1; s <= 25; ++s)
    batch.push_back(msg("r", s)); // ts 1001..1025
  store.insert_batch(batch);
  store.write_marks({{"r", 25, 0}});
  CHECK(store.prune_messages(1011, 4) == 4);
  CHECK(store.prune_messages(1011, 4) == 4);
  CHECK(store.prune_messages(1011, 4) == 2); // 1001..1010 gone
  CHECK(store.prune_messages(1011, 4) == 0);
  CHECK(seqs(store.since("r", 0, 1)) == seq_list{11});
  CHECK(store.read_mark("r") == 25); // numbering never restarts

  std::vector<access_entry> log;
  for (int i = 0; i < 10; ++i)
    log.push_back({"u", "n", "r", "connect", "", 100 + i});
  store.log_access(log);
  CHECK(store.prune_access_log(105, 100) == 5);
  CHECK(store.prune_access_log(105, 100) == 0);
  raw_db raw(store.file());
  CHECK(raw.scalar("SELECT COUNT(*) FROM access_log") == "5");

  store.set_online("old", false, 10);
  store.set_online("online", true, 10);
  store.set_online("recent", false, 1000);
  CHECK(store.prune_users(500, 100) == 1);
  CHECK(raw.scalar("SELECT group_concat(username) FROM (SELECT username FROM users ORDER BY username)")
        == "online,recent");
}

TEST_CASE("sqlite: accounts live in the users table, survive reopening and are never pruned",
          "[sqlite]") {
  temp_dir dir;
  {
    sqlite_store store(dir.str(), nullptr);
    store.set_online("claimed", false, 10); // a presence row: its name may be registered
    CHECK(store.create_account("claimed", "hash-c", 20));
    CHECK(store.create_account("fresh", "hash-f", 30));
    CHECK_FALSE(store.create_account("fresh", "other hash", 40)); // taken
    store.revoke_tokens("minted", 500); // a name another service mints tokens for
    store.revoke_tokens("minted", 400); // never moves back
    store.set_online("anon", false, 10);
    CHECK(store.prune_users(1000000, 100) == 1); // only "anon"
  }
  sqlite_store again(dir.str(), nullptr);
  auto f = again.find_account("fresh");
  REQUIRE(f);
  CHECK(f->password_hash == "hash-f");
  CHECK(f->tokens_valid_after_s == 0);
  CHECK(again.find_account("claimed")->password_hash == "hash-c");
  auto m = again.find_account("minted");
  REQUIRE(m);
  CHECK(m->password_hash.empty());
  CHECK(m->tokens_valid_after_s == 500);
  CHECK_FALSE(again.find_account("anon"));
  again.set_online("fresh", true, 50); // presence keeps the password
  CHECK(again.find_account("fresh")->password_hash == "hash-f");
}

TEST_CASE("sqlite: a users table from before accounts gets their columns", "[sqlite]") {
  temp_dir dir;
  {
    raw_db raw(dir.str() + "/chat.db");
    raw.exec("CREATE TABLE users(id INTEGER PRIMARY KEY, username TEXT NOT NULL,"
             " is_online INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0);"
             "CREATE UNIQUE INDEX users_username ON users(username);"
             "INSERT INTO users(username, last_seen) VALUES('old', 5)");
  }
  sqlite_store store(dir.str(), nullptr);
  CHECK(store.find_account("old")->password_hash.empty());
  CHECK(store.create_account("old", "hash", 6));
  CHECK(store.find_account("old")->password_hash == "hash");
}

TEST_CASE("sqlite: indexes no query uses are dropped from older databases", "[sqlite]") {
  temp_dir dir;
  {
    sqlite_store store(dir.str(), nullptr);
    store.insert_batch({msg("r", 1)});
  }
  {
    raw_db raw(dir.str() + "/chat.db");
    raw.exec("CREATE INDEX messages_user ON messages(user);"
             "CREATE INDEX messages_room_ts ON messages(room, ts DESC)");
  }
  sqlite_store store(dir.str(), nullptr);
  raw_db raw(store.file());
  auto indexes = [&] {
    return raw.scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
                      " WHERE type = 'index' AND tbl_name = 'messages'"
                      " AND name NOT LIKE 'sqlite_%' ORDER BY name)");
  };
  CHECK(indexes() == "messages_room_seq,messages_user_cid");
  store.insert_batch({msg("r", 2)});
  CHECK(seqs(store.history("r", 0, 10)) == seq_list{1, 2});
  CHECK(store.find_cid("r", "alice", "cr2") == 2);
}
