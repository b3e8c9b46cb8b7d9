// Backend selection: sqlite (files under storage.path), mongo (mongo.uri), or memory.
#include "tools/chatd/storage_setup.hpp"

#include "storage/key_ring.hpp"
#include "storage/mongo_store.hpp"
#include "storage/sqlite_store.hpp"

#include <iostream>

namespace chat::tools {

storage_setup open_storage(const config::node_config& cfg) {
  storage_setup out;
  std::shared_ptr<const storage::key_ring> keys;
  if (!cfg.at_rest_keys.empty()) {
    try {
      keys = std::make_shared<const storage::key_ring>(storage::key_ring::load(cfg.at_rest_keys));
    } catch (const std::exception& e) {
      out.error = std::string("security.at-rest-keys: ") + e.what();
      out.exit_code = 2;
      return out;
    }
  }
  try {
    if (cfg.backend == "sqlite") {
      auto dir = cfg.path;
      // Open once now so an unusable directory stops the node at start.
      storage::sqlite_store probe(dir, keys);
      out.factory = [dir, keys] { return std::make_unique<storage::sqlite_store>(dir, keys); };
      out.user_factory = [dir, keys] { return std::make_unique<storage::sqlite_store>(dir, keys); };
    } else if (cfg.backend == "mongo") {
      auto uri = cfg.mongo_uri;
      auto db = cfg.mongo_database;
      auto timeout = cfg.mongo_connect_timeout.count();
      storage::mongo_store probe(uri, db, timeout, keys);
      out.factory = [uri, db, timeout, keys] {
        return std::make_unique<storage::mongo_store>(uri, db, timeout, keys);
      };
      out.user_factory = [uri, db, timeout, keys] {
        return std::make_unique<storage::mongo_store>(uri, db, timeout, keys);
      };
    }
  } catch (const std::exception& e) {
    out.error = "storage." + cfg.backend + ": " + e.what();
    out.exit_code = 1;
  }
  return out;
}

int print_new_key(const std::string& arg) {
  uint32_t id = 1;
  auto eq = arg.find('=');
  if (eq != std::string::npos) {
    try {
      id = uint32_t(std::stoul(arg.substr(eq + 1)));
    } catch (const std::exception&) {
      std::cerr << "chatd: --gen-key=ID needs a positive integer id\n";
      return 2;
    }
  }
  std::cout << storage::key_ring::generate_line(id) << "\n";
  return 0;
}

} // namespace chat::tools
