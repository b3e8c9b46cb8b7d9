// Backend selection: sqlite (files under storage.path), mongo (mongo.uri), or memory.
#include "tools/chatd/storage_setup.hpp"

#include "storage/key_ring.hpp"
#include "storage/mongo_module.hpp"
#include "storage/sqlite_store.hpp"

#include <dlfcn.h>
#include <iostream>
#include <limits.h>
#include <unistd.h>

namespace chat::tools {

namespace {

// Beside the chatd binary first, then where the build put it.
std::vector<std::string> mongo_module_paths() {
  std::vector<std::string> paths;
  char exe[PATH_MAX];
  auto n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, size_t(n));
    paths.push_back(dir.substr(0, dir.rfind('/') + 1) + storage::mongo_module_file);
  }
  paths.push_back(CHAT_MONGO_MODULE);
  return paths;
}

// Loads libchat_mongo_store.so (never unloaded: its code backs the factories) and opens
// the probe connection through it.
void open_mongo(const config::node_config& cfg, std::shared_ptr<const storage::key_ring> keys,
                storage_setup& out) {
  void* module = nullptr;
  std::string why;
  for (const auto& path : mongo_module_paths()) {
    module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (module)
      break;
    why = dlerror();
  }
  auto open = module ? reinterpret_cast<storage::mongo_open_fn>(
                         dlsym(module, storage::mongo_open_symbol))
                     : nullptr;
  if (!open) {
    out.error = "storage.mongo: cannot load the MongoDB backend: " + why;
    out.exit_code = 1;
    return;
  }
  storage::mongo_params params{cfg.mongo_uri, cfg.mongo_database,
                               int(cfg.mongo_connect_timeout.count()), std::move(keys)};
  storage::mongo_factories made;
  open(params, made);
  if (!made.error.empty()) {
    out.error = "storage.mongo: " + made.error;
    out.exit_code = 1;
    return;
  }
  out.factory = std::move(made.messages);
  out.user_factory = std::move(made.users);
}

} // namespace

storage_setup open_storage(const config::node_config& cfg) {
  storage_setup out;
  out.accounts = std::make_shared<storage::memory_account_store>();
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
      // Users and the access log: small writes, no hot index pages to keep.
      out.user_factory = [dir, keys] {
        return std::make_unique<storage::sqlite_store>(dir, keys, 5000, 2);
      };
    } else if (cfg.backend == "mongo") {
      open_mongo(cfg, keys, out);
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
