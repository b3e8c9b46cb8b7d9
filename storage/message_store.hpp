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

class message_store {
public:
  virtual ~message_store() = default;
  // Stores a batch atomically (one transaction / one unordered bulk insert). Messages whose
  // (room, seq) or (user, cid) already exist are skipped, so a retried batch is harmless.
  virtual void insert_batch(const std::vector<stored_message>& batch) = 0;
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
};

} // namespace chat::storage
