// Chooses and opens the configured store backend for chatd (and the key file for
// encryption at rest); failures become one clear line and an exit code. A store holding
// messages under key ids the key file lacks stops the node at start. Recovery files (what
// a failed shutdown could not store) are stored first at the next start.
#pragma once

#include "actors/persistence_pool.hpp"
#include "config/node_config.hpp"
#include "storage/key_ring.hpp"

#include <string>

namespace chat::tools {

struct storage_setup {
  persistence_pool::store_factory factory; // empty: storage.backend=memory
  // Connections that only read (rooms' reads) or prune: no hot index pages to keep.
  persistence_pool::store_factory reader_factory;
  persistence_pool::user_store_factory user_factory;
  std::shared_ptr<const storage::key_ring> keys; // null: no encryption at rest
  std::string error;
  int exit_code = 0;
};

storage_setup open_storage(const config::node_config& cfg);

// Stores the messages of recovery files in storage.path, then removes the files; returns
// an error line ("" when all is stored or there was nothing).
std::string store_recovery_files(const config::node_config& cfg, const storage_setup& setup);

// Saves messages the store did not take at shutdown in a recovery file; returns the one
// line to print (naming the file and the count, or saying what was lost).
std::string save_leftovers(const config::node_config& cfg, const storage_setup& setup,
                           const std::vector<chat_message>& messages, bool& saved);

// `--gen-key[=ID]`: prints a new key line; returns the process exit code.
int print_new_key(const std::string& arg);

} // namespace chat::tools
