// Backend selection: sqlite (files under storage.path), mongo (mongo.uri), or memory.
#include "tools/chatd/storage_setup.hpp"

#include "storage/key_ring.hpp"
#include "storage/mongo_module.hpp"
#include "storage/recovery_file.hpp"
#include "storage/sqlite_store.hpp"
#include "config/log.hpp"

#include <filesystem>
#include <set>

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
  out.reader_factory = out.factory;
  out.user_factory = std::move(made.users);
}

// Key ids the store (or a recovery file) uses that the key ring cannot decrypt.
std::string check_key_ids(const config::node_config& cfg, storage_setup& out) {
  std::set<uint32_t> missing;
  auto store = out.factory();
  for (auto id : store->key_ids())
    if (id != 0 && (!out.keys || !out.keys->has(id)))
      missing.insert(id);
  for (const auto& file : storage::recovery_files(cfg.path)) {
    auto id = storage::recovery_key_id(file);
    if (id != 0 && (!out.keys || !out.keys->has(id)))
      missing.insert(id);
  }
  if (missing.empty())
    return {};
  std::string ids;
  for (auto id : missing)
    ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  return "storage: stored messages are encrypted under key id" +
         std::string(missing.size() > 1 ? "s " : " ") + ids + ", which " +
         (out.keys ? "the key file " + cfg.at_rest_keys + " does not hold"
                   : "cannot be read: security.at-rest-keys is not set") +
         "; start with the key file that holds them";
}

} // namespace

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
      out.reader_factory = [dir, keys] {
        return std::make_unique<storage::sqlite_store>(dir, keys, 5000, 8);
      };
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
    return out;
  }
  out.keys = keys;
  if (!out.factory)
    return out;
  try {
    out.error = check_key_ids(cfg, out);
    if (!out.error.empty())
      out.exit_code = 2;
  } catch (const std::exception& e) {
    out.error = "storage." + cfg.backend + ": cannot check stored key ids: " + e.what();
    out.exit_code = 1;
  }
  return out;
}

std::string store_recovery_files(const config::node_config& cfg, const storage_setup& setup) {
  if (!setup.factory)
    return {};
  auto files = storage::recovery_files(cfg.path);
  if (files.empty())
    return {};
  try {
    auto store = setup.factory();
    for (const auto& file : files) {
      auto messages = storage::read_recovery(file, setup.keys.get());
      store->insert_batch(messages);
      std::filesystem::remove(file);
      spdlog::info("stored {} messages saved at the last shutdown (recovery file {})",
                   messages.size(), file);
    }
  } catch (const std::exception& e) {
    return std::string("storage: cannot store the messages saved at the last shutdown: ") +
           e.what();
  }
  return {};
}

std::string save_leftovers(const config::node_config& cfg, const storage_setup& setup,
                           const std::vector<chat_message>& messages, bool& saved) {
  saved = false;
  try {
    auto file = storage::write_recovery(cfg.path, messages, setup.keys.get());
    saved = true;
    return "the store did not take " + std::to_string(messages.size()) +
           " messages within storage.shutdown-timeout: saved " +
           std::to_string(messages.size()) + " messages to " + file +
           "; the next start stores them first";
  } catch (const std::exception& e) {
    return "LOST " + std::to_string(messages.size()) +
           " messages: the store did not take them and the recovery file failed: " + e.what();
  }
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
