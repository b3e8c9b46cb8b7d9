// The MongoDB backend is built as its own shared library (libchat_mongo_store.so) that chatd
// loads with dlopen only when storage.backend=mongo. libmongoc initialises itself as soon as
// it is loaded (a shared-memory counters file in /dev/shm per process, left behind by a
// killed process, and a warning on stderr when a later process reuses that pid), so a node on
// the embedded default must not load it at all. This is the one symbol chatd looks up.
#pragma once

#include "storage/account_store.hpp"
#include "storage/key_ring.hpp"
#include "storage/message_store.hpp"

#include <functional>
#include <memory>
#include <string>

namespace chat::storage {

struct mongo_params {
  std::string uri;
  std::string database;
  int connect_timeout_ms = 5000;
  std::shared_ptr<const key_ring> keys; // may be null
};

struct mongo_factories {
  std::function<std::unique_ptr<message_store>()> messages;
  std::function<std::unique_ptr<user_store>()> users;
  std::function<std::unique_ptr<account_store>()> accounts;
  std::string error; // set instead of the factories when the probe connection failed
};

using mongo_open_fn = void (*)(const mongo_params&, mongo_factories&);
inline constexpr const char* mongo_module_file = "libchat_mongo_store.so";
inline constexpr const char* mongo_open_symbol = "chat_mongo_open";

} // namespace chat::storage

// Opens one probe connection (server reachable, indexes created) and, when it succeeds,
// fills factories that each open a mongo_store. Never throws.
extern "C" void chat_mongo_open(const chat::storage::mongo_params& params,
                                chat::storage::mongo_factories& out);
