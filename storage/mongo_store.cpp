// mongo_store: client pool, start-up checks, index creation and the store operations.
#include "storage/mongo_store.hpp"

#include "storage/mongo_mapping.hpp"

#include <mongoc/mongoc.h>

#include <algorithm>
#include <mutex>

namespace chat::storage {

namespace {

constexpr int32_t namespace_exists = 48;

struct collection_deleter {
  void operator()(mongoc_collection_t* c) const { mongoc_collection_destroy(c); }
};
struct cursor_deleter {
  void operator()(mongoc_cursor_t* c) const { mongoc_cursor_destroy(c); }
};
using collection_ptr = std::unique_ptr<mongoc_collection_t, collection_deleter>;
using cursor_ptr = std::unique_ptr<mongoc_cursor_t, cursor_deleter>;

// A reply document the driver always initializes, destroyed on scope exit.
struct reply_doc {
  bson_t b;
  ~reply_doc() { bson_destroy(&b); }
};

// Borrows a client from the pool for one call.
class lease {
public:
  explicit lease(mongoc_client_pool_t* pool) : pool_(pool), c_(mongoc_client_pool_pop(pool)) {}
  ~lease() { mongoc_client_pool_push(pool_, c_); }
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  mongoc_client_t* get() const { return c_; }

private:
  mongoc_client_pool_t* pool_;
  mongoc_client_t* c_;
};

std::string describe(const bson_error_t& e) {
  return std::string(e.message) + " (domain " + std::to_string(e.domain) + ", code " +
         std::to_string(e.code) + ")";
}

void append_str(bson_t* b, const char* key, const std::string& v) {
  bson_append_utf8(b, key, -1, v.data(), static_cast<int>(v.size()));
}

} // namespace

struct mongo_store::impl {
  std::string uri; // redacted
  std::string db;
  std::shared_ptr<const key_ring> keys;
  mongoc_client_pool_t* pool = nullptr;

  ~impl() {
    if (pool)
      mongoc_client_pool_destroy(pool);
  }

  collection_ptr collection(const lease& l, const char* name) const {
    return collection_ptr(mongoc_client_get_collection(l.get(), db.c_str(), name));
  }

  bool command(const bson_t* cmd, const char* db_name, bson_error_t* err) {
    lease l(pool);
    reply_doc reply;
    return mongoc_client_write_command_with_opts(l.get(), db_name, cmd, nullptr, &reply.b, err);
  }

  bool ping(bson_error_t* err) {
    lease l(pool);
    bson_ptr cmd(bson_new());
    bson_append_int32(cmd.get(), "ping", -1, 1);
    reply_doc reply;
    return mongoc_client_command_simple(l.get(), "admin", cmd.get(), nullptr, &reply.b, err);
  }

  void create_indexes() {
    const std::vector<index_spec> specs = mongo_index_specs();
    for (const char* coll : {"messages", "users"}) {
      bson_ptr cmd(bson_new());
      bson_append_utf8(cmd.get(), "createIndexes", -1, coll, -1);
      bson_t arr;
      bson_append_array_begin(cmd.get(), "indexes", -1, &arr);
      int i = 0;
      for (const auto& spec : specs) {
        if (spec.collection != coll)
          continue;
        auto doc = index_document(spec);
        bson_append_document(&arr, std::to_string(i++).c_str(), -1, doc.get());
      }
      bson_append_array_end(cmd.get(), &arr);
      bson_error_t err;
      if (!command(cmd.get(), db.c_str(), &err))
        throw std::runtime_error("MongoDB " + uri + ": cannot create indexes on " + db + "." +
                                 coll + ": " + describe(err));
    }
    bson_ptr cmd(bson_new());
    bson_append_utf8(cmd.get(), "create", -1, "access_log", -1);
    bson_error_t err;
    if (!command(cmd.get(), db.c_str(), &err) && err.code != namespace_exists)
      throw std::runtime_error("MongoDB " + uri + ": cannot create collection " + db +
                               ".access_log: " + describe(err));
  }

  // Unordered insert_many of `docs` into `coll`; duplicates are fine when `dups_ok`.
  void insert_many(const char* coll, const std::vector<bson_ptr>& docs, bool dups_ok,
                   const char* what) {
    // The driver wants `const bson_t**`; GCC warns that bson_t's alignment attribute is
    // dropped in the template argument, which is harmless for a vector of pointers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
    std::vector<const bson_t*> ptrs;
#pragma GCC diagnostic pop
    ptrs.reserve(docs.size());
    for (const auto& d : docs)
      ptrs.push_back(d.get());
    bson_ptr opts(bson_new());
    bson_append_bool(opts.get(), "ordered", -1, false);
    lease l(pool);
    auto c = collection(l, coll);
    reply_doc reply;
    bson_error_t err;
    if (mongoc_collection_insert_many(c.get(), ptrs.data(), ptrs.size(), opts.get(), &reply.b,
                                      &err))
      return;
    if (dups_ok && insert_only_duplicates(&reply.b, docs.size()))
      return;
    throw store_error(std::string("mongo ") + what + ": " + describe(err));
  }

  std::vector<stored_message> find(const bson_t* filter, const bson_t* opts, const char* what) {
    lease l(pool);
    auto c = collection(l, "messages");
    cursor_ptr cur(mongoc_collection_find_with_opts(c.get(), filter, opts, nullptr));
    std::vector<stored_message> out;
    const bson_t* doc;
    while (mongoc_cursor_next(cur.get(), &doc))
      out.push_back(from_document(doc, keys.get()));
    bson_error_t err;
    if (mongoc_cursor_error(cur.get(), &err))
      throw store_error(std::string("mongo ") + what + ": " + describe(err));
    return out;
  }

  // Messages of `room` with seq `op` `bound`, sorted by seq (`order` 1 or -1).
  std::vector<stored_message> range(const std::string& room, const char* op, uint64_t bound,
                                    int order, uint32_t limit, const char* what) {
    bson_ptr filter(bson_new());
    append_str(filter.get(), "roomId", room);
    if (op) {
      bson_t cond;
      bson_append_document_begin(filter.get(), "seq", -1, &cond);
      bson_append_int64(&cond, op, -1, static_cast<int64_t>(bound));
      bson_append_document_end(filter.get(), &cond);
    }
    bson_ptr opts(bson_new());
    bson_t sort;
    bson_append_document_begin(opts.get(), "sort", -1, &sort);
    bson_append_int32(&sort, "seq", -1, order);
    bson_append_document_end(opts.get(), &sort);
    bson_append_int64(opts.get(), "limit", -1, limit);
    return find(filter.get(), opts.get(), what);
  }
};

mongo_store::mongo_store(const std::string& uri, const std::string& database,
                         int connect_timeout_ms, std::shared_ptr<const key_ring> keys)
  : impl_(std::make_unique<impl>()) {
  static std::once_flag init;
  std::call_once(init, [] {
    mongoc_init();
    // The driver's default handler prints debug chatter (one line per failed heartbeat) to
    // stdout, where the node prints its `listening` lines. Keep warnings and errors only;
    // the default handler sends those to stderr. Process-wide: a later handler replaces it.
    mongoc_log_set_handler(
      [](mongoc_log_level_t level, const char* domain, const char* message, void* data) {
        if (level <= MONGOC_LOG_LEVEL_WARNING)
          mongoc_log_default_handler(level, domain, message, data);
      },
      nullptr);
  });
  if (connect_timeout_ms <= 0)
    throw std::invalid_argument("mongo connect timeout must be positive");
  if (keys && keys->size() == 0)
    throw key_error("mongo_store: the key ring is empty");
  impl_->uri = redact_uri(uri);
  impl_->db = database;
  impl_->keys = std::move(keys);

  bson_error_t err;
  mongoc_uri_t* u = mongoc_uri_new_with_error(uri.c_str(), &err);
  if (!u)
    throw std::runtime_error("invalid MongoDB uri " + impl_->uri + ": " + err.message);
  mongoc_uri_set_option_as_int32(u, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, connect_timeout_ms);
  mongoc_uri_set_option_as_int32(u, MONGOC_URI_CONNECTTIMEOUTMS, connect_timeout_ms);
  impl_->pool = mongoc_client_pool_new_with_error(u, &err);
  mongoc_uri_destroy(u);
  if (!impl_->pool)
    throw std::runtime_error("invalid MongoDB uri " + impl_->uri + ": " + err.message);
  mongoc_client_pool_set_error_api(impl_->pool, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(impl_->pool, "chatd");
  if (!impl_->ping(&err))
    throw std::runtime_error("cannot reach MongoDB at " + impl_->uri + " within " +
                             std::to_string(connect_timeout_ms) + " ms: " + err.message);
  impl_->create_indexes();
}

mongo_store::~mongo_store() = default;

void mongo_store::insert_batch(const std::vector<stored_message>& batch) {
  if (batch.empty())
    return;
  std::vector<bson_ptr> docs;
  docs.reserve(batch.size());
  for (const auto& m : batch)
    docs.push_back(to_document(m, impl_->keys.get()));
  impl_->insert_many("messages", docs, true, "insert_batch");
}

std::vector<stored_message> mongo_store::history(const std::string& room, uint64_t before,
                                                 uint32_t limit) {
  if (limit == 0)
    return {};
  auto out = impl_->range(room, before == 0 ? nullptr : "$lt", before, -1, limit, "history");
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<stored_message> mongo_store::since(const std::string& room, uint64_t after,
                                               uint32_t limit) {
  if (limit == 0)
    return {};
  return impl_->range(room, "$gt", after, 1, limit, "since");
}

uint64_t mongo_store::last_seq(const std::string& room) {
  auto last = impl_->range(room, nullptr, 0, -1, 1, "last_seq");
  return last.empty() ? 0 : last.front().seq;
}

uint64_t mongo_store::find_cid(const std::string& room, const std::string& user,
                               const std::string& cid) {
  if (cid.empty())
    return 0;
  bson_ptr filter(bson_new());
  append_str(filter.get(), "userId", user);
  append_str(filter.get(), "cid", cid);
  append_str(filter.get(), "roomId", room);
  bson_ptr opts(bson_new());
  bson_append_int64(opts.get(), "limit", -1, 1);
  auto found = impl_->find(filter.get(), opts.get(), "find_cid");
  return found.empty() ? 0 : found.front().seq;
}

bool mongo_store::reachable() {
  bson_error_t err;
  return impl_->ping(&err);
}

void mongo_store::set_online(const std::string& user, bool online, int64_t ts_ms) {
  bson_ptr filter(bson_new());
  append_str(filter.get(), "username", user);
  bson_ptr update(bson_new());
  bson_t set;
  bson_append_document_begin(update.get(), "$set", -1, &set);
  bson_append_bool(&set, "isOnline", -1, online);
  bson_append_date_time(&set, "lastSeen", -1, ts_ms);
  bson_append_document_end(update.get(), &set);
  bson_ptr opts(bson_new());
  bson_append_bool(opts.get(), "upsert", -1, true);
  lease l(impl_->pool);
  auto c = impl_->collection(l, "users");
  bson_error_t err;
  // Two concurrent upserts of a new user: the loser gets a duplicate key; once more updates.
  for (int attempt = 0; attempt < 2; ++attempt) {
    reply_doc reply;
    if (mongoc_collection_update_one(c.get(), filter.get(), update.get(), opts.get(), &reply.b,
                                     &err))
      return;
    if (err.code != mongo_duplicate_key)
      break;
  }
  throw store_error("mongo set_online: " + describe(err));
}

bool mongo_store::is_online(const std::string& user) {
  bson_ptr filter(bson_new());
  append_str(filter.get(), "username", user);
  bson_ptr opts(bson_new());
  bson_append_int64(opts.get(), "limit", -1, 1);
  lease l(impl_->pool);
  auto c = impl_->collection(l, "users");
  cursor_ptr cur(mongoc_collection_find_with_opts(c.get(), filter.get(), opts.get(), nullptr));
  const bson_t* doc;
  bool online = false;
  if (mongoc_cursor_next(cur.get(), &doc)) {
    bson_iter_t it;
    online = bson_iter_init_find(&it, doc, "isOnline") && bson_iter_as_bool(&it);
  }
  bson_error_t err;
  if (mongoc_cursor_error(cur.get(), &err))
    throw store_error("mongo is_online: " + describe(err));
  return online;
}

void mongo_store::log_access(const std::vector<access_entry>& entries) {
  if (entries.empty())
    return;
  std::vector<bson_ptr> docs;
  docs.reserve(entries.size());
  for (const auto& e : entries)
    docs.push_back(access_document(e));
  impl_->insert_many("access_log", docs, false, "log_access");
}

} // namespace chat::storage
