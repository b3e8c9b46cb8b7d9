// The embedded default backend: messages, users and the access log in one SQLite file
// (<dir>/chat.db, WAL mode), message bodies optionally encrypted with a key_ring.
#pragma once

#include "storage/key_ring.hpp"
#include "storage/message_store.hpp"

#include <memory>
#include <string>

namespace chat::storage {

// Each call is serialized by an internal mutex, so one instance may be shared, but calls on
// it never run in parallel: for parallel writers construct one instance per writer thread on
// the same dir (WAL lets readers run beside the single writer; writers wait up to
// busy_timeout_ms for each other, then store_error is thrown and the caller retries).
// After an I/O, read-only or cannot-open error the connection is reopened on the next call.
class sqlite_store : public message_store, public user_store {
public:
  // Creates `dir` when missing and opens or creates `dir/chat.db`. `keys` may be null (bodies
  // stored as plain text, key_id 0). `cache_mib` bounds this connection's page cache (the
  // message writer's hot index pages need the default). Throws store_error when the file
  // cannot be opened.
  sqlite_store(const std::string& dir, std::shared_ptr<const key_ring> keys,
               int busy_timeout_ms = 5000, int cache_mib = 64);
  ~sqlite_store() override;
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  // Path of the database file.
  const std::string& file() const;

  size_t insert_batch(const std::vector<stored_message>& batch) override;
  std::vector<stored_message> history(const std::string& room, uint64_t before,
                                      uint32_t limit) override;
  std::vector<stored_message> since(const std::string& room, uint64_t after,
                                    uint32_t limit) override;
  uint64_t last_seq(const std::string& room) override;
  uint64_t find_cid(const std::string& room, const std::string& user,
                    const std::string& cid) override;
  bool reachable() override;
  uint64_t read_mark(const std::string& room) override;
  void write_marks(const std::vector<seq_mark>& marks) override;
  std::vector<cid_entry> recent_cids(const std::string& room, uint32_t limit) override;
  std::vector<uint32_t> key_ids() override;
  uint64_t prune_messages(int64_t before_ms, uint32_t limit) override;

  void set_online(const std::string& user, bool online, int64_t ts_ms) override;
  bool is_online(const std::string& user) override;
  void log_access(const std::vector<access_entry>& entries) override;
  uint64_t prune_access_log(int64_t before_ms, uint32_t limit) override;
  uint64_t prune_users(int64_t before_ms, uint32_t limit) override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace chat::storage
