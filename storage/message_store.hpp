// The storage seam: what the node needs from a message store and a user store.
// Backends (sqlite_store, mongo_store) implement these; the persistence pool and the
// room actors only ever see these interfaces.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace chat::storage {

// One room message as it is stored. `text` is plain text here; a store that encrypts
// at rest does so inside the backend (see key_ring.hpp).
struct stored_message {
  std::string room;
  uint64_t seq = 0;
  std::string user;
  std::string cid;
  std::string text;
  int64_t ts_ms = 0; // milliseconds since the epoch
};

// Thrown by a backend when an operation failed and may succeed on retry.
struct store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A room's seq high-water mark: the highest seq it may have handed out (see
// docs/ARCHITECTURE.md, "A seq is never reused"). A mark with `release_from` set lowers the
// room's mark from `release_from` to `mark`, and only if it still is `release_from` (a room
// that stopped gives back what it reserved and did not use); otherwise the mark is raised
// to `mark` (never lowered).
struct seq_mark {
  std::string room;
  uint64_t mark = 0;
  uint64_t release_from = 0;
};

// A client message id as stored, without the body (a room reloads its dedupe window).
struct cid_entry {
  uint64_t seq = 0;
  std::string user;
  std::string cid;
};

class message_store {
public:
  virtual ~message_store() = default;
  // Stores a batch atomically (one transaction / one unordered bulk insert). A message whose
  // (room, seq) already exists is skipped, so a retried batch is harmless. A message whose
  // (user, cid) belongs to another stored message is stored without its cid (it was
  // delivered under its own seq, so it is kept); returns how many were stored that way.
  virtual size_t insert_batch(const std::vector<stored_message>& batch) = 0;
  // Up to `limit` messages of `room` with seq < `before` (before == 0: the newest), oldest first.
  virtual std::vector<stored_message> history(const std::string& room, uint64_t before,
                                              uint32_t limit) = 0;
  // Up to `limit` messages of `room` with seq > `after`, oldest first.
  virtual std::vector<stored_message> since(const std::string& room, uint64_t after,
                                            uint32_t limit) = 0;
  // Highest stored seq of `room`, 0 when the room has no messages.
  virtual uint64_t last_seq(const std::string& room) = 0;
  // The seq under which `user` stored `cid` in `room`, 0 when there is none.
  virtual uint64_t find_cid(const std::string& room, const std::string& user,
                            const std::string& cid) = 0;
  // True when the backend can serve requests right now.
  virtual bool reachable() = 0;

  // The room's seq mark, 0 when it never reserved any.
  virtual uint64_t read_mark(const std::string& room) = 0;
  // Applies marks (raise or release, see seq_mark) in one transaction.
  virtual void write_marks(const std::vector<seq_mark>& marks) = 0;
  // The newest `limit` client message ids of `room`, oldest first (no bodies read).
  virtual std::vector<cid_entry> recent_cids(const std::string& room, uint32_t limit) = 0;
  // Every key id that stored message bodies use (0: plain text), ascending.
  virtual std::vector<uint32_t> key_ids() = 0;
  // Deletes up to `limit` of the oldest messages stored before `before_ms`; returns how
  // many. Rooms keep their seq marks, so their numbering never restarts.
  virtual uint64_t prune_messages(int64_t before_ms, uint32_t limit) = 0;
};

struct access_entry {
  std::string user;
  std::string node;
  std::string remote;  // "ip:port"
  std::string event;   // "connect" or "disconnect"
  std::string reason;  // for disconnects: "client closed", "slow consumer", ...
  int64_t ts_ms = 0;
};

class user_store {
public:
  virtual ~user_store() = default;
  // Creates the user when missing; keeps isOnline and last-seen current.
  virtual void set_online(const std::string& user, bool online, int64_t ts_ms) = 0;
  virtual bool is_online(const std::string& user) = 0;
  virtual void log_access(const std::vector<access_entry>& entries) = 0;
  // Deletes up to `limit` of the oldest access-log rows written before `before_ms`.
  virtual uint64_t prune_access_log(int64_t before_ms, uint32_t limit) = 0;
  // Deletes up to `limit` users that are offline and were last seen before `before_ms`
  // (the rows presence creates for anonymous names).
  virtual uint64_t prune_users(int64_t before_ms, uint32_t limit) = 0;
};

} // namespace chat::storage
