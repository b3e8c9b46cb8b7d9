// mongo_store: client pool, start-up checks, index creation and the store operations.
#include "storage/mongo_store.hpp"

#include "storage/mongo_mapping.hpp"

#include <mongoc/mongoc.h>

#include <algorithm>
#include <mutex>
#include <set>

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
  std::mutex key_ids_mtx;
  std::set<uint32_t> recorded_key_ids; // under key_ids_mtx

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

  // Unordered insert_many of `docs` into `coll`; duplicates are fine when `dups_ok`. With
  // `cid_dups`, the indexes of documents refused for their (userId, cid) are put there.
  void insert_many(const char* coll, const std::vector<bson_ptr>& docs, bool dups_ok,
                   const char* what, std::vector<size_t>* cid_dups = nullptr) {
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
    if (dups_ok && insert_only_duplicates(&reply.b, docs.size())) {
      if (cid_dups)
        *cid_dups = cid_duplicates(&reply.b);
      return;
    }
    throw store_error(std::string("mongo ") + what + ": " + describe(err));
  }

  // Records the key id a batch was written with, once per id and store.
  void note_key_id(uint32_t id) {
    if (recorded_key_ids.count(id))
      return;
    bson_ptr doc(bson_new());
    bson_append_int64(doc.get(), "_id", -1, id);
    std::vector<bson_ptr> docs;
    docs.push_back(std::move(doc));
    insert_many("key_ids", docs, true, "key_ids");
    recorded_key_ids.insert(id);
  }

  // Up to `limit` documents of `coll` matching `filter`, with only the fields of
  // `projection`, in `sort` order; `each` sees every document.
  template <class Each>
  void scan(const char* coll, const bson_t* filter, const char* sort_field, int order,
            const std::vector<const char*>& fields, uint32_t limit, const char* what,
            Each&& each) {
    bson_ptr opts(bson_new());
    bson_t doc;
    bson_append_document_begin(opts.get(), "sort", -1, &doc);
    bson_append_int32(&doc, sort_field, -1, order);
    bson_append_document_end(opts.get(), &doc);
    bson_append_document_begin(opts.get(), "projection", -1, &doc);
    for (const char* f : fields)
      bson_append_int32(&doc, f, -1, 1);
    bson_append_document_end(opts.get(), &doc);
    bson_append_int64(opts.get(), "limit", -1, limit);
    lease l(pool);
    auto c = collection(l, coll);
    cursor_ptr cur(mongoc_collection_find_with_opts(c.get(), filter, opts.get(), nullptr));
    const bson_t* d;
    while (mongoc_cursor_next(cur.get(), &d))
      each(d);
    bson_error_t err;
    if (mongoc_cursor_error(cur.get(), &err))
      throw store_error(std::string("mongo ") + what + ": " + describe(err));
  }

  // Ids to delete, gathered as the elements ("0", "1", ...) of one BSON array.
  struct id_list {
    bson_ptr array{bson_new()};
    uint32_t count = 0;
    void add(const bson_iter_t* id) {
      bson_append_value(array.get(), std::to_string(count++).c_str(), -1, bson_iter_value(
                        const_cast<bson_iter_t*>(id)));
    }
  };

  // Deletes the documents of `coll` whose _id is in `ids`; the number deleted.
  uint64_t delete_ids(const char* coll, const id_list& ids, const char* what) {
    if (ids.count == 0)
      return 0;
    bson_ptr filter(bson_new());
    bson_t cond;
    bson_append_document_begin(filter.get(), "_id", -1, &cond);
    bson_append_array(&cond, "$in", -1, ids.array.get());
    bson_append_document_end(filter.get(), &cond);
    lease l(pool);
    auto c = collection(l, coll);
    reply_doc reply;
    bson_error_t err;
    if (!mongoc_collection_delete_many(c.get(), filter.get(), nullptr, &reply.b, &err))
      throw store_error(std::string("mongo ") + what + ": " + describe(err));
    bson_iter_t it;
    return bson_iter_init_find(&it, &reply.b, "deletedCount") && BSON_ITER_HOLDS_NUMBER(&it)
             ? static_cast<uint64_t>(bson_iter_as_int64(&it))
             : 0;
  }

  // Prunes the oldest `limit` documents of `coll` (by _id, i.e. insertion time) whose
  // `ts_field` is before `before_ms`; a newer one among them ends the pass.
  uint64_t prune_oldest(const char* coll, const char* ts_field, int64_t before_ms,
                        uint32_t limit, const char* what) {
    id_list ids;
    bson_ptr all(bson_new());
    scan(coll, all.get(), "_id", 1, {"_id", ts_field}, limit, what, [&](const bson_t* d) {
      bson_iter_t it;
      if (!bson_iter_init_find(&it, d, ts_field) || !BSON_ITER_HOLDS_DATE_TIME(&it)
          || bson_iter_date_time(&it) >= before_ms)
        return;
      bson_iter_t id;
      if (bson_iter_init_find(&id, d, "_id"))
        ids.add(&id);
    });
    return delete_ids(coll, ids, what);
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

size_t mongo_store::insert_batch(const std::vector<stored_message>& batch) {
  if (batch.empty())
    return 0;
  std::vector<bson_ptr> docs;
  docs.reserve(batch.size());
  for (const auto& m : batch)
    docs.push_back(to_document(m, impl_->keys.get()));
  {
    std::lock_guard<std::mutex> guard(impl_->key_ids_mtx);
    impl_->note_key_id(impl_->keys ? impl_->keys->current_id() : 0);
  }
  std::vector<size_t> cid_dups;
  impl_->insert_many("messages", docs, true, "insert_batch", &cid_dups);
  if (cid_dups.empty())
    return 0;
  // Delivered under their own seq, so kept: stored again without the cid another message
  // holds (a retry of such a row is a harmless (roomId, seq) duplicate).
  std::vector<bson_ptr> again;
  for (size_t i : cid_dups) {
    if (i >= batch.size())
      continue;
    auto m = batch[i];
    m.cid.clear();
    again.push_back(to_document(m, impl_->keys.get()));
  }
  impl_->insert_many("messages", again, true, "insert_batch");
  return again.size();
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

uint64_t mongo_store::read_mark(const std::string& room) {
  bson_ptr filter(bson_new());
  append_str(filter.get(), "_id", room);
  uint64_t mark = 0;
  impl_->scan("seq_marks", filter.get(), "_id", 1, {"mark"}, 1, "seq_mark", [&](const bson_t* d) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, d, "mark") && BSON_ITER_HOLDS_NUMBER(&it))
      mark = static_cast<uint64_t>(bson_iter_as_int64(&it));
  });
  return mark;
}

void mongo_store::write_marks(const std::vector<seq_mark>& marks) {
  lease l(impl_->pool);
  auto c = impl_->collection(l, "seq_marks");
  for (const auto& m : marks) {
    bson_ptr filter(bson_new());
    append_str(filter.get(), "_id", m.room);
    if (m.release_from)
      bson_append_int64(filter.get(), "mark", -1, static_cast<int64_t>(m.release_from));
    bson_ptr update(bson_new());
    bson_t op;
    bson_append_document_begin(update.get(), m.release_from ? "$set" : "$max", -1, &op);
    bson_append_int64(&op, "mark", -1, static_cast<int64_t>(m.mark));
    bson_append_document_end(update.get(), &op);
    bson_ptr opts(bson_new());
    bson_append_bool(opts.get(), "upsert", -1, m.release_from == 0);
    reply_doc reply;
    bson_error_t err;
    if (!mongoc_collection_update_one(c.get(), filter.get(), update.get(), opts.get(), &reply.b,
                                      &err))
      throw store_error("mongo write_marks: " + describe(err));
  }
}

std::vector<cid_entry> mongo_store::recent_cids(const std::string& room, uint32_t limit) {
  bson_ptr filter(bson_new());
  append_str(filter.get(), "roomId", room);
  std::vector<cid_entry> out;
  impl_->scan("messages", filter.get(), "seq", -1, {"seq", "userId", "cid"}, limit,
              "recent_cids", [&](const bson_t* d) {
                cid_entry e;
                bson_iter_t it;
                if (bson_iter_init_find(&it, d, "cid") && BSON_ITER_HOLDS_UTF8(&it))
                  e.cid = bson_iter_utf8(&it, nullptr);
                if (bson_iter_init_find(&it, d, "userId") && BSON_ITER_HOLDS_UTF8(&it))
                  e.user = bson_iter_utf8(&it, nullptr);
                if (bson_iter_init_find(&it, d, "seq") && BSON_ITER_HOLDS_NUMBER(&it))
                  e.seq = static_cast<uint64_t>(bson_iter_as_int64(&it));
                if (!e.cid.empty())
                  out.push_back(std::move(e));
              });
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> mongo_store::key_ids() {
  std::set<uint32_t> ids;
  bson_ptr all(bson_new());
  impl_->scan("key_ids", all.get(), "_id", 1, {"_id"}, 0, "key_ids", [&](const bson_t* d) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, d, "_id") && BSON_ITER_HOLDS_NUMBER(&it))
      ids.insert(static_cast<uint32_t>(bson_iter_as_int64(&it)));
  });
  if (ids.empty()) {
    // A database from before key_ids: ask the messages once, then remember the answer.
    bson_ptr cmd(bson_new());
    bson_append_utf8(cmd.get(), "distinct", -1, "messages", -1);
    bson_append_utf8(cmd.get(), "key", -1, "keyId", -1);
    lease l(impl_->pool);
    reply_doc reply;
    bson_error_t err;
    if (!mongoc_client_read_command_with_opts(l.get(), impl_->db.c_str(), cmd.get(), nullptr,
                                              nullptr, &reply.b, &err))
      throw store_error("mongo key_ids: " + describe(err));
    bson_iter_t it, vals;
    if (bson_iter_init_find(&it, &reply.b, "values") && BSON_ITER_HOLDS_ARRAY(&it)
        && bson_iter_recurse(&it, &vals))
      while (bson_iter_next(&vals))
        if (BSON_ITER_HOLDS_NUMBER(&vals))
          ids.insert(static_cast<uint32_t>(bson_iter_as_int64(&vals)));
    std::lock_guard<std::mutex> guard(impl_->key_ids_mtx);
    for (auto id : ids)
      impl_->note_key_id(id);
  }
  return {ids.begin(), ids.end()};
}

uint64_t mongo_store::prune_messages(int64_t before_ms, uint32_t limit) {
  return impl_->prune_oldest("messages", "createdAt", before_ms, limit, "prune_messages");
}

uint64_t mongo_store::prune_access_log(int64_t before_ms, uint32_t limit) {
  return impl_->prune_oldest("access_log", "createdAt", before_ms, limit, "prune_access_log");
}

uint64_t mongo_store::prune_users(int64_t before_ms, uint32_t limit) {
  bson_ptr filter(bson_new());
  bson_append_bool(filter.get(), "isOnline", -1, false);
  bson_t cond;
  bson_append_document_begin(filter.get(), "lastSeen", -1, &cond);
  bson_append_date_time(&cond, "$lt", -1, before_ms);
  bson_append_document_end(filter.get(), &cond);
  impl::id_list ids;
  impl_->scan("users", filter.get(), "_id", 1, {"_id"}, limit, "prune_users",
              [&](const bson_t* d) {
                bson_iter_t id;
                if (bson_iter_init_find(&id, d, "_id"))
                  ids.add(&id);
              });
  return impl_->delete_ids("users", ids, "prune_users");
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
