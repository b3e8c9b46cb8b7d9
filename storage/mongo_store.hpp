// The production backend: messages, users and the access log in MongoDB (mongo-c-driver,
// one client pool), message bodies optionally encrypted with a key_ring.
#pragma once

#include "storage/key_ring.hpp"
#include "storage/message_store.hpp"

#include <memory>
#include <string>

namespace chat::storage {

// Safe to use from any number of threads at once: each call borrows a client from the pool.
class mongo_store : public message_store, public user_store {
public:
  // Connects, pings the server and creates the indexes (mongo_index_specs()). Server
  // selection and connect timeouts are set to `connect_timeout_ms` (overriding the uri).
  // Throws std::runtime_error("cannot reach MongoDB at <uri> within N ms: <reason>") when the
  // server does not answer in time, and std::runtime_error on a bad uri or index conflict.
  // `keys` may be null (bodies stored as plain text).
  mongo_store(const std::string& uri, const std::string& database, int connect_timeout_ms,
              std::shared_ptr<const key_ring> keys);
  ~mongo_store() override;
  mongo_store(const mongo_store&) = delete;
  mongo_store& operator=(const mongo_store&) = delete;

  // Unordered insert_many; duplicate-key errors (a retried batch) count as success; any
  // other failure throws store_error.
  size_t insert_batch(const std::vector<stored_message>& batch) override;
  std::vector<stored_message> history(const std::string& room, uint64_t before,
                                      uint32_t limit) override;
  std::vector<stored_message> since(const std::string& room, uint64_t after,
                                    uint32_t limit) override;
  uint64_t last_seq(const std::string& room) override;
  uint64_t find_cid(const std::string& room, const std::string& user,
                    const std::string& cid) override;
  // Pings the server; may take up to the connect timeout when it is down.
  bool reachable() override;
  // Marks live in collection seq_marks ({_id: room, mark}); key ids in key_ids ({_id}).
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
