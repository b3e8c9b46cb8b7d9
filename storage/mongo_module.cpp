// The dlopen entry point of libchat_mongo_store.so (see mongo_module.hpp).
#include "storage/mongo_module.hpp"

#include "storage/mongo_store.hpp"

extern "C" void chat_mongo_open(const chat::storage::mongo_params& params,
                                chat::storage::mongo_factories& out) {
  using chat::storage::mongo_store;
  try {
    mongo_store probe(params.uri, params.database, params.connect_timeout_ms, params.keys);
    auto p = params;
    out.messages = [p] {
      return std::make_unique<mongo_store>(p.uri, p.database, p.connect_timeout_ms, p.keys);
    };
    out.users = [p] {
      return std::make_unique<mongo_store>(p.uri, p.database, p.connect_timeout_ms, p.keys);
    };
    out.accounts = [p] {
      return std::make_unique<mongo_store>(p.uri, p.database, p.connect_timeout_ms, p.keys);
    };
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}
