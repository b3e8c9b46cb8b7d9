// Chooses and opens the configured store backend for chatd (and the key file for
// encryption at rest); failures become one clear line and an exit code.
#pragma once

#include "actors/persistence_pool.hpp"
#include "config/node_config.hpp"
#include "storage/account_store.hpp"

#include <string>

namespace chat::tools {

struct storage_setup {
  persistence_pool::store_factory factory; // empty: storage.backend=memory
  persistence_pool::user_store_factory user_factory;
  std::shared_ptr<storage::account_store> accounts; // registration, login, revocation
  std::string error;
  int exit_code = 0;
};

storage_setup open_storage(const config::node_config& cfg);

// `--gen-key[=ID]`: prints a new key line; returns the process exit code.
int print_new_key(const std::string& arg);

} // namespace chat::tools
