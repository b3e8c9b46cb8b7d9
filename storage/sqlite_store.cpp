// sqlite_store: schema, prepared statements and error mapping for the SQLite backend.
#include "storage/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>

namespace chat::storage {

namespace {

// Indexes mirror the Mongo ones (mongo_mapping.cpp). A NULL cid (message sent without one)
// never collides in messages_user_cid: SQLite treats NULLs as distinct in unique indexes.
// messages_user_cid also serves lookups by user (its leading column), so the separate
// index on user that earlier versions created is dropped: one B-tree less per insert.
// So is messages_room_ts (room, ts): no query reads by time (history and catch-up go by
// seq, pruning by rowid), and it cost ~5 µs of the ~19 µs of each stored row.
// seq_marks holds each room's seq reservation; key_ids every key id message bodies use,
// kept per batch so the start-up key check reads a few rows, not the messages (filled once
// from the messages when it is empty: a database from before it, or one with no messages).
constexpr const char* key_ids_backfill_sql = R"sql(
BEGIN IMMEDIATE;
INSERT OR IGNORE INTO key_ids SELECT DISTINCT key_id FROM messages;
COMMIT;
)sql";
// Accounts joined the users table later: databases from before get the two columns.
constexpr const char* accounts_migration_sql = R"sql(
BEGIN IMMEDIATE;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN tokens_valid_after INTEGER NOT NULL DEFAULT 0;
COMMIT;
)sql";
constexpr const char* schema_sql = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS users(id INTEGER PRIMARY KEY, username TEXT NOT NULL,
  is_online INTEGER NOT NULL DEFAULT 0, last_seen INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT, tokens_valid_after INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS users_username ON users(username);
CREATE INDEX IF NOT EXISTS users_is_online ON users(is_online);
CREATE TABLE IF NOT EXISTS messages(id INTEGER PRIMARY KEY, room TEXT NOT NULL,
  seq INTEGER NOT NULL, user TEXT NOT NULL, cid TEXT, ts INTEGER NOT NULL,
  key_id INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS messages_room_seq ON messages(room, seq);
CREATE UNIQUE INDEX IF NOT EXISTS messages_user_cid ON messages(user, cid);
DROP INDEX IF EXISTS messages_user;
DROP INDEX IF EXISTS messages_room_ts;
CREATE TABLE IF NOT EXISTS access_log(id INTEGER PRIMARY KEY, user TEXT NOT NULL,
  node TEXT NOT NULL, remote TEXT NOT NULL, event TEXT NOT NULL, reason TEXT NOT NULL,
  ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seq_marks(room TEXT PRIMARY KEY, mark INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS key_ids(id INTEGER PRIMARY KEY);
COMMIT;
)sql";

enum stmt_id : size_t {
  begin_tx, commit_tx, rollback_tx, insert_msg, select_before, select_after, select_last,
  select_cid, upsert_user, select_user, insert_access, insert_key_id, select_seq_exists,
  select_mark, raise_mark, release_mark, select_cids, select_key_ids, prune_msgs,
  prune_access, prune_user_rows, insert_account, select_account, revoke_account, stmt_count
};

#define CHAT_MSG_COLUMNS "SELECT room, seq, user, cid, ts, key_id, body FROM messages "
constexpr std::array<const char*, stmt_count> stmt_sql = {
  // IMMEDIATE takes the write lock up front, so a writer waits in busy_timeout instead of
  // failing with SQLITE_BUSY when upgrading a stale read snapshot.
  "BEGIN IMMEDIATE",
  "COMMIT",
  "ROLLBACK",
  "INSERT OR IGNORE INTO messages(room, seq, user, cid, ts, key_id, body)"
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  CHAT_MSG_COLUMNS "WHERE room = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
  CHAT_MSG_COLUMNS "WHERE room = ?1 AND seq > ?2 ORDER BY seq ASC LIMIT ?3",
  "SELECT MAX(seq) FROM messages WHERE room = ?1",
  "SELECT seq FROM messages WHERE user = ?1 AND cid = ?2 AND room = ?3",
  "INSERT INTO users(username, is_online, last_seen) VALUES(?1, ?2, ?3)"
  " ON CONFLICT(username) DO UPDATE SET is_online = excluded.is_online,"
  " last_seen = excluded.last_seen",
  "SELECT is_online FROM users WHERE username = ?1",
  "INSERT INTO access_log(user, node, remote, event, reason, ts)"
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
  "INSERT OR IGNORE INTO key_ids(id) VALUES(?1)",
  "SELECT 1 FROM messages WHERE room = ?1 AND seq = ?2",
  "SELECT mark FROM seq_marks WHERE room = ?1",
  "INSERT INTO seq_marks(room, mark) VALUES(?1, ?2)"
  " ON CONFLICT(room) DO UPDATE SET mark = MAX(mark, excluded.mark)",
  "UPDATE seq_marks SET mark = ?2 WHERE room = ?1 AND mark = ?3",
  // The body is the last column: its overflow pages are never read here.
  "SELECT seq, user, cid FROM messages WHERE room = ?1 ORDER BY seq DESC LIMIT ?2",
  "SELECT id FROM key_ids ORDER BY id",
  // Pruning looks at the oldest rows only (rowid order is insertion order): a pass costs
  // the batch, never a scan of the table; a newer row among them ends the pass.
  "DELETE FROM messages WHERE id IN (SELECT id FROM"
  " (SELECT id, ts FROM messages ORDER BY id LIMIT ?2) WHERE ts < ?1)",
  "DELETE FROM access_log WHERE id IN (SELECT id FROM"
  " (SELECT id, ts FROM access_log ORDER BY id LIMIT ?2) WHERE ts < ?1)",
  // Accounts (a password) and revocation marks are never pruned: only the rows presence
  // made for anonymous names.
  "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE is_online = 0"
  " AND last_seen < ?1 AND password_hash IS NULL AND tokens_valid_after = 0 LIMIT ?2)",
  // Claims a name without a password (a presence row) or a new one; no change when the
  // name already has a password.
  "INSERT INTO users(username, last_seen, password_hash) VALUES(?1, ?3, ?2)"
  " ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash"
  " WHERE users.password_hash IS NULL",
  "SELECT password_hash, tokens_valid_after FROM users WHERE username = ?1",
  "INSERT INTO users(username, tokens_valid_after) VALUES(?1, ?2)"
  " ON CONFLICT(username) DO UPDATE SET"
  " tokens_valid_after = MAX(tokens_valid_after, excluded.tokens_valid_after)",
};
#undef CHAT_MSG_COLUMNS

// Resets a statement and its bindings when a call leaves scope, also by exception.
struct stmt_guard {
  sqlite3_stmt* s;
  ~stmt_guard() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string column_string(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

bool needs_reopen(int rc) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return true;
    default:
      return false;
  }
}

} // namespace

struct sqlite_store::impl {
  std::string dir;
  std::string path;
  std::shared_ptr<const key_ring> keys;
  int busy_ms;
  int cache_mib;
  std::mutex mu;
  sqlite3* db = nullptr;
  bool stale = false; // reopen before the next call
  std::array<sqlite3_stmt*, stmt_count> st{};

  ~impl() { close(); }

  void close() {
    for (auto*& s : st) {
      sqlite3_finalize(s);
      s = nullptr;
    }
    sqlite3_close_v2(db);
    db = nullptr;
    stale = false;
  }

  [[noreturn]] void open_failed(const std::string& what, int rc) {
    std::string msg = "sqlite " + path + ": " + what + ": " +
                      (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    close();
    throw store_error(msg);
  }

  // sqlite3_exec that retries SQLITE_BUSY until busy_ms have passed: switching to WAL or
  // creating the schema while another instance does the same can return BUSY at once,
  // without going through the busy handler (SQLite's deadlock avoidance).
  int exec_retry(const char* sql, int (*cb)(void*, int, char**, char**), void* arg) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_ms);
    for (;;) {
      int rc = sqlite3_exec(db, sql, cb, arg, nullptr);
      int primary = rc & 0xff;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED)
          || std::chrono::steady_clock::now() >= deadline)
        return rc;
      if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  void open() {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw store_error("sqlite: cannot create directory " + dir + ": " + ec.message());
    // NOMUTEX: the connection is only used under `mu`.
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK)
      open_failed("cannot open", rc);
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busy_ms);
    if (sqlite3_db_readonly(db, "main") == 1)
      open_failed("cannot open", SQLITE_READONLY);
    std::string mode;
    rc = exec_retry(
      "PRAGMA journal_mode=WAL",
      [](void* out, int, char** vals, char**) {
        *static_cast<std::string*>(out) = vals[0] ? vals[0] : "";
        return 0;
      },
      &mode);
    if (rc != SQLITE_OK)
      open_failed("cannot enable WAL", rc);
    if (mode != "wal")
      open_failed("cannot enable WAL (journal mode is '" + mode + "')", SQLITE_ERROR);
    // With WAL, synchronous=NORMAL syncs at checkpoints, not at every commit. A committed
    // transaction is in the WAL file (the OS page cache) once COMMIT returns, so it survives
    // a crash or kill -9 of this process; only an OS crash or power loss may lose the last
    // commits. That is the promise behind a "persisted" ack, so NORMAL is enough.
    rc = sqlite3_exec(db, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
    // Measured under a steady 10,000 msg/s: with SQLite's defaults (2 MB page cache,
    // checkpoint every 1,000 pages) the writer re-read index pages for every batch and
    // synced the file several times a second. A larger cache and a checkpoint every
    // ~40 MB of WAL copy each hot page once per checkpoint instead.
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(db,
                        ("PRAGMA cache_size=-" + std::to_string(cache_mib * 1024)
                         + "; PRAGMA wal_autocheckpoint=10000")
                          .c_str(),
                        nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK)
      rc = exec_retry(schema_sql, nullptr, nullptr);
    bool no_key_ids = true;
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(
        db, "SELECT 1 FROM key_ids LIMIT 1",
        [](void* none, int, char**, char**) {
          *static_cast<bool*>(none) = false;
          return 0;
        },
        &no_key_ids, nullptr);
    if (rc == SQLITE_OK && no_key_ids)
      rc = exec_retry(key_ids_backfill_sql, nullptr, nullptr);
    bool has_accounts = false;
    if (rc == SQLITE_OK)
      rc = sqlite3_exec(
        db, "SELECT 1 FROM pragma_table_info('users') WHERE name = 'password_hash'",
        [](void* found, int, char**, char**) {
          *static_cast<bool*>(found) = true;
          return 0;
        },
        &has_accounts, nullptr);
    if (rc == SQLITE_OK && !has_accounts)
      rc = exec_retry(accounts_migration_sql, nullptr, nullptr);
    if (rc != SQLITE_OK)
      open_failed("cannot create schema", rc);
    for (size_t i = 0; i < stmt_count; ++i) {
      rc = sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i], nullptr);
      if (rc != SQLITE_OK)
        open_failed("cannot prepare statement", rc);
    }
  }

  void ensure_open() {
    if (stale)
      close();
    if (!db)
      open();
  }

  // Maps a failed step to store_error; rolls back an open transaction; marks the connection
  // for reopening when the file itself is the problem (read-only, I/O error, ...).
  [[noreturn]] void fail(const char* what, int rc, sqlite3_stmt* s) {
    std::string msg = "sqlite " + path + ": " + what + ": " + sqlite3_errmsg(db) + " (code " +
                      std::to_string(rc) + ")";
    sqlite3_reset(s);
    rollback_if_open();
    if (needs_reopen(rc))
      stale = true;
    throw store_error(msg);
  }

  void rollback_if_open() {
    if (sqlite3_get_autocommit(db))
      return;
    sqlite3_step(st[rollback_tx]);
    sqlite3_reset(st[rollback_tx]);
    if (!sqlite3_get_autocommit(db))
      stale = true;
  }

  // Steps a statement that returns no rows.
  void step_done(sqlite3_stmt* s, const char* what) {
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
      fail(what, rc, s);
  }

  void exec(stmt_id id, const char* what) {
    stmt_guard g{st[id]};
    step_done(st[id], what);
  }

  template <class F>
  void transaction(const char* what, F&& body) {
    exec(begin_tx, what);
    try {
      body();
    } catch (...) {
      rollback_if_open();
      throw;
    }
    exec(commit_tx, what);
  }

  std::vector<stored_message> read_messages(sqlite3_stmt* s, const char* what) {
    std::vector<stored_message> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      stored_message m;
      m.room = column_string(s, 0);
      m.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
      m.user = column_string(s, 2);
      m.cid = column_string(s, 3);
      m.ts_ms = sqlite3_column_int64(s, 4);
      auto key_id = static_cast<uint32_t>(sqlite3_column_int64(s, 5));
      m.text = column_string(s, 6);
      if (key_id != 0) {
        if (!keys)
          throw key_error("message " + m.room + "/" + std::to_string(m.seq) +
                          " is encrypted (key id " + std::to_string(key_id) +
                          ") but no key file is configured");
        m.text = keys->decrypt(key_id, m.text, key_ring::message_ad(m.room, m.seq));
      }
      out.push_back(std::move(m));
    }
    if (rc != SQLITE_DONE)
      fail(what, rc, s);
    return out;
  }

  // Runs a one-row query under the lock; 0 when there is no row (or the value is NULL).
  template <class Bind>
  uint64_t scalar(stmt_id id, const char* what, Bind&& bind) {
    std::lock_guard<std::mutex> lock(mu);
    ensure_open();
    auto* s = st[id];
    stmt_guard g{s};
    bind(s);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
      return 0;
    if (rc != SQLITE_ROW)
      fail(what, rc, s);
    return static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  }

  // Runs a query under the lock: `bind` sets its parameters, `row` sees each result row.
  template <class Bind, class Row>
  void rows(stmt_id id, const char* what, Bind&& bind, Row&& row) {
    std::lock_guard<std::mutex> lock(mu);
    ensure_open();
    auto* s = st[id];
    stmt_guard g{s};
    bind(s);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      row(s);
    if (rc != SQLITE_DONE)
      fail(what, rc, s);
  }

  // One pruning statement (?1 cutoff, ?2 batch size); the number of rows deleted.
  uint64_t prune(stmt_id id, int64_t before_ms, uint32_t limit, const char* what) {
    std::lock_guard<std::mutex> lock(mu);
    ensure_open();
    auto* s = st[id];
    stmt_guard g{s};
    sqlite3_bind_int64(s, 1, before_ms);
    sqlite3_bind_int64(s, 2, limit);
    step_done(s, what);
    return static_cast<uint64_t>(sqlite3_changes(db));
  }

  // Messages of `room` around seq `bound`, in the statement's order.
  std::vector<stored_message> range(stmt_id id, const std::string& room,
                                    sqlite3_int64 bound, uint32_t limit, const char* what) {
    std::lock_guard<std::mutex> lock(mu);
    ensure_open();
    auto* s = st[id];
    stmt_guard g{s};
    bind_text(s, 1, room);
    sqlite3_bind_int64(s, 2, bound);
    sqlite3_bind_int64(s, 3, limit);
    return read_messages(s, what);
  }
};

sqlite_store::sqlite_store(const std::string& dir, std::shared_ptr<const key_ring> keys,
                           int busy_timeout_ms, int cache_mib)
  : impl_(std::make_unique<impl>()) {
  if (keys && keys->size() == 0)
    throw key_error("sqlite_store: the key ring is empty");
  impl_->dir = dir;
  impl_->path = (std::filesystem::path(dir) / "chat.db").string();
  impl_->keys = std::move(keys);
  impl_->busy_ms = busy_timeout_ms;
  impl_->cache_mib = cache_mib;
  impl_->open();
}

sqlite_store::~sqlite_store() = default;

const std::string& sqlite_store::file() const {
  return impl_->path;
}

size_t sqlite_store::insert_batch(const std::vector<stored_message>& batch) {
  if (batch.empty())
    return 0;
  // Encrypt before taking the write lock, to keep the transaction short.
  std::vector<sealed_blob> sealed;
  if (impl_->keys) {
    sealed.reserve(batch.size());
    for (const auto& m : batch)
      sealed.push_back(impl_->keys->encrypt(m.text, key_ring::message_ad(m.room, m.seq)));
  }
  size_t without_cid = 0;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  impl_->transaction("insert_batch", [&] {
    auto* s = impl_->st[insert_msg];
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto& m = batch[i];
      const std::string& body = sealed.empty() ? m.text : sealed[i].blob;
      auto insert = [&](bool with_cid) {
        stmt_guard g{s};
        bind_text(s, 1, m.room);
        sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(m.seq));
        bind_text(s, 3, m.user);
        if (m.cid.empty() || !with_cid)
          sqlite3_bind_null(s, 4);
        else
          bind_text(s, 4, m.cid);
        sqlite3_bind_int64(s, 5, m.ts_ms);
        sqlite3_bind_int64(s, 6, sealed.empty() ? 0 : sealed[i].key_id);
        sqlite3_bind_blob(s, 7, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
        impl_->step_done(s, "insert_batch");
        return sqlite3_changes(impl_->db) > 0;
      };
      if (insert(true) || m.cid.empty())
        continue;
      // Skipped: a retry of this very row, or a (user, cid) of another message.
      auto* exists = impl_->st[select_seq_exists];
      stmt_guard g{exists};
      bind_text(exists, 1, m.room);
      sqlite3_bind_int64(exists, 2, static_cast<sqlite3_int64>(m.seq));
      int rc = sqlite3_step(exists);
      if (rc == SQLITE_ROW)
        continue;
      if (rc != SQLITE_DONE)
        impl_->fail("insert_batch", rc, exists);
      if (insert(false))
        ++without_cid;
    }
    auto* key = impl_->st[insert_key_id];
    stmt_guard g{key};
    sqlite3_bind_int64(key, 1, sealed.empty() ? 0 : sealed.front().key_id);
    impl_->step_done(key, "insert_batch");
  });
  return without_cid;
}

std::vector<stored_message> sqlite_store::history(const std::string& room, uint64_t before,
                                                  uint32_t limit) {
  auto bound = before == 0 ? std::numeric_limits<sqlite3_int64>::max()
                           : static_cast<sqlite3_int64>(before);
  auto out = impl_->range(select_before, room, bound, limit, "history");
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<stored_message> sqlite_store::since(const std::string& room, uint64_t after,
                                                uint32_t limit) {
  return impl_->range(select_after, room, static_cast<sqlite3_int64>(after), limit, "since");
}

uint64_t sqlite_store::last_seq(const std::string& room) {
  return impl_->scalar(select_last, "last_seq", [&](sqlite3_stmt* s) { bind_text(s, 1, room); });
}

uint64_t sqlite_store::find_cid(const std::string& room, const std::string& user,
                                const std::string& cid) {
  if (cid.empty())
    return 0;
  return impl_->scalar(select_cid, "find_cid", [&](sqlite3_stmt* s) {
    bind_text(s, 1, user);
    bind_text(s, 2, cid);
    bind_text(s, 3, room);
  });
}

uint64_t sqlite_store::read_mark(const std::string& room) {
  return impl_->scalar(select_mark, "seq_mark", [&](sqlite3_stmt* s) { bind_text(s, 1, room); });
}

void sqlite_store::write_marks(const std::vector<seq_mark>& marks) {
  if (marks.empty())
    return;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  impl_->transaction("write_marks", [&] {
    for (const auto& m : marks) {
      auto* s = impl_->st[m.release_from ? release_mark : raise_mark];
      stmt_guard g{s};
      bind_text(s, 1, m.room);
      sqlite3_bind_int64(s, 2, static_cast<sqlite3_int64>(m.mark));
      if (m.release_from)
        sqlite3_bind_int64(s, 3, static_cast<sqlite3_int64>(m.release_from));
      impl_->step_done(s, "write_marks");
    }
  });
}

std::vector<cid_entry> sqlite_store::recent_cids(const std::string& room, uint32_t limit) {
  std::vector<cid_entry> out;
  impl_->rows(
    select_cids, "recent_cids",
    [&](sqlite3_stmt* s) {
      bind_text(s, 1, room);
      sqlite3_bind_int64(s, 2, limit);
    },
    [&](sqlite3_stmt* s) {
      if (sqlite3_column_type(s, 2) != SQLITE_NULL)
        out.push_back({static_cast<uint64_t>(sqlite3_column_int64(s, 0)), column_string(s, 1),
                       column_string(s, 2)});
    });
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> sqlite_store::key_ids() {
  std::vector<uint32_t> out;
  impl_->rows(
    select_key_ids, "key_ids", [](sqlite3_stmt*) {},
    [&](sqlite3_stmt* s) { out.push_back(static_cast<uint32_t>(sqlite3_column_int64(s, 0))); });
  return out;
}

uint64_t sqlite_store::prune_messages(int64_t before_ms, uint32_t limit) {
  return impl_->prune(prune_msgs, before_ms, limit, "prune_messages");
}

uint64_t sqlite_store::prune_access_log(int64_t before_ms, uint32_t limit) {
  return impl_->prune(prune_access, before_ms, limit, "prune_access_log");
}

uint64_t sqlite_store::prune_users(int64_t before_ms, uint32_t limit) {
  return impl_->prune(prune_user_rows, before_ms, limit, "prune_users");
}

bool sqlite_store::reachable() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  try {
    impl_->ensure_open();
    return true;
  } catch (const store_error&) {
    return false;
  }
}

void sqlite_store::set_online(const std::string& user, bool online, int64_t ts_ms) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  auto* s = impl_->st[upsert_user];
  stmt_guard g{s};
  bind_text(s, 1, user);
  sqlite3_bind_int(s, 2, online ? 1 : 0);
  sqlite3_bind_int64(s, 3, ts_ms);
  impl_->step_done(s, "set_online");
}

bool sqlite_store::is_online(const std::string& user) {
  return impl_->scalar(select_user, "is_online", [&](sqlite3_stmt* s) { bind_text(s, 1, user); })
         != 0;
}

bool sqlite_store::create_account(const std::string& username,
                                  const std::string& password_hash, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  auto* s = impl_->st[insert_account];
  stmt_guard g{s};
  bind_text(s, 1, username);
  bind_text(s, 2, password_hash);
  sqlite3_bind_int64(s, 3, now_ms);
  impl_->step_done(s, "create_account");
  return sqlite3_changes(impl_->db) > 0;
}

std::optional<account> sqlite_store::find_account(const std::string& username) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  auto* s = impl_->st[select_account];
  stmt_guard g{s};
  bind_text(s, 1, username);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE)
    return std::nullopt;
  if (rc != SQLITE_ROW)
    impl_->fail("find_account", rc, s);
  account a;
  a.username = username;
  a.password_hash = column_string(s, 0);
  a.tokens_valid_after_s = sqlite3_column_int64(s, 1);
  return a;
}

void sqlite_store::revoke_tokens(const std::string& username, int64_t at_s) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  auto* s = impl_->st[revoke_account];
  stmt_guard g{s};
  bind_text(s, 1, username);
  sqlite3_bind_int64(s, 2, at_s);
  impl_->step_done(s, "revoke_tokens");
}

void sqlite_store::log_access(const std::vector<access_entry>& entries) {
  if (entries.empty())
    return;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ensure_open();
  impl_->transaction("log_access", [&] {
    auto* s = impl_->st[insert_access];
    for (const auto& e : entries) {
      stmt_guard g{s};
      bind_text(s, 1, e.user);
      bind_text(s, 2, e.node);
      bind_text(s, 3, e.remote);
      bind_text(s, 4, e.event);
      bind_text(s, 5, e.reason);
      sqlite3_bind_int64(s, 6, e.ts_ms);
      impl_->step_done(s, "log_access");
    }
  });
}

} // namespace chat::storage
