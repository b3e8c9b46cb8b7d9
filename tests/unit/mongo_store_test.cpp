// Unit tests for the Mongo backend: index specs and document mapping (no server needed),
// a bounded failure against an unreachable server, and integration tests against a real
// server, tagged [.integration] (hidden from the default run). CTest runs them as
// unit.mongo_store_live when CHAT_TEST_MONGO_URI is set and reports that test skipped
// otherwise (tests/CMakeLists.txt).
#include "storage/mongo_mapping.hpp"
#include "storage/mongo_store.hpp"

#include <catch2/catch.hpp>
#include <mongoc/mongoc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <unistd.h>

using namespace chat::storage;

namespace {

std::string json(const bson_t* doc) {
  char* j = bson_as_canonical_extended_json(doc, nullptr);
  std::string out = j;
  bson_free(j);
  return out;
}

std::string raw_bytes(const bson_t* doc) {
  return {reinterpret_cast<const char*>(bson_get_data(doc)), doc->len};
}

std::shared_ptr<const key_ring> ring(const std::string& text) {
  return std::make_shared<const key_ring>(key_ring::parse(text, "test"));
}

const std::string key1 = "1 " + std::string(64, 'a');
const std::string key2 = "2 " + std::string(64, 'b');

} // namespace

TEST_CASE("mongo: index specs are exactly the designed ones", "[mongo]") {
  std::vector<std::string> docs;
  for (const auto& spec : mongo_index_specs())
    docs.push_back(spec.collection + " " + json(index_document(spec).get()));
  CHECK(docs == std::vector<std::string>{
    R"(messages { "key" : { "roomId" : { "$numberInt" : "1" }, "createdAt" : { "$numberInt" : "-1" } }, "name" : "roomId_1_createdAt_-1" })",
    R"(messages { "key" : { "userId" : { "$numberInt" : "1" } }, "name" : "userId_1" })",
    R"(messages { "key" : { "roomId" : { "$numberInt" : "1" }, "seq" : { "$numberInt" : "1" } }, "name" : "roomId_1_seq_1", "unique" : true })",
    R"(messages { "key" : { "userId" : { "$numberInt" : "1" }, "cid" : { "$numberInt" : "1" } }, "name" : "userId_1_cid_1", "unique" : true, "partialFilterExpression" : { "cid" : { "$exists" : true } } })",
    R"(users { "key" : { "username" : { "$numberInt" : "1" } }, "name" : "username_1", "unique" : true })",
    R"(users { "key" : { "isOnline" : { "$numberInt" : "1" } }, "name" : "isOnline_1" })",
  });
}

TEST_CASE("mongo: plain message document round-trips", "[mongo]") {
  stored_message m{"room-1", 42, "alice", "c-9", "héllo", 1700000000123};
  auto doc = to_document(m, nullptr);
  CHECK(json(doc.get()) ==
        R"({ "roomId" : "room-1", "seq" : { "$numberLong" : "42" }, "userId" : "alice", )"
        R"("cid" : "c-9", "text" : "héllo", "createdAt" : { "$date" : { "$numberLong" : )"
        R"("1700000000123" } } })");
  auto back = from_document(doc.get(), nullptr);
  CHECK(back.room == m.room);
  CHECK(back.seq == m.seq);
  CHECK(back.user == m.user);
  CHECK(back.cid == m.cid);
  CHECK(back.text == m.text);
  CHECK(back.ts_ms == m.ts_ms);

  SECTION("an empty cid is left out, so the partial unique index ignores it") {
    m.cid.clear();
    auto d = to_document(m, nullptr);
    bson_iter_t it;
    CHECK_FALSE(bson_iter_init_find(&it, d.get(), "cid"));
    CHECK(from_document(d.get(), nullptr).cid.empty());
  }
  SECTION("text that is not UTF-8 is kept byte for byte as binary") {
    m.text = std::string("bad \xff\xfe utf8\0!", 14);
    auto d = to_document(m, nullptr);
    bson_iter_t it;
    CHECK_FALSE(bson_iter_init_find(&it, d.get(), "text"));
    REQUIRE(bson_iter_init_find(&it, d.get(), "keyId"));
    CHECK(bson_iter_as_int64(&it) == 0);
    CHECK(from_document(d.get(), nullptr).text == m.text);
  }
}

TEST_CASE("mongo: documents written by others are read leniently", "[mongo]") {
  bson_t doc = BSON_INITIALIZER;
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  bson_append_oid(&doc, "_id", -1, &oid);
  bson_append_utf8(&doc, "roomId", -1, "r", -1);
  bson_append_int32(&doc, "seq", -1, 7);
  bson_append_utf8(&doc, "userId", -1, "bob", -1);
  bson_append_utf8(&doc, "text", -1, "hi", -1);
  bson_append_date_time(&doc, "createdAt", -1, 5);
  bson_append_int32(&doc, "__v", -1, 0);
  auto m = from_document(&doc, nullptr);
  bson_destroy(&doc);
  CHECK(m.seq == 7);
  CHECK(m.user == "bob");
  CHECK(m.cid.empty());
  CHECK(m.text == "hi");
  CHECK(m.ts_ms == 5);
}

TEST_CASE("mongo: encrypted message documents hold no plaintext", "[mongo]") {
  const std::string secret = "PLAINTEXT-MARKER-mongo";
  stored_message m{"r", 3, "alice", "c", secret, 9};
  auto keys = ring(key1 + "\n" + key2);
  auto doc = to_document(m, keys.get());
  CHECK(raw_bytes(doc.get()).find(secret) == std::string::npos);
  bson_iter_t it;
  CHECK_FALSE(bson_iter_init_find(&it, doc.get(), "text"));
  REQUIRE(bson_iter_init_find(&it, doc.get(), "keyId"));
  CHECK(bson_iter_as_int64(&it) == 2);
  REQUIRE(bson_iter_init_find(&it, doc.get(), "body"));
  CHECK(BSON_ITER_HOLDS_BINARY(&it));
  CHECK(from_document(doc.get(), keys.get()).text == secret);
  CHECK_THROWS_AS(from_document(doc.get(), nullptr), key_error);
  CHECK_THROWS_AS(from_document(doc.get(), ring(key1).get()), key_error);

  SECTION("a body copied into another message's document fails authentication") {
    stored_message other = m;
    other.seq = 4;
    auto moved = to_document(other, nullptr);
    bson_t copy = BSON_INITIALIZER;
    bson_copy_to_excluding_noinit(moved.get(), &copy, "text", "createdAt", nullptr);
    bson_iter_t body;
    REQUIRE(bson_iter_init_find(&body, doc.get(), "body"));
    bson_append_iter(&copy, "body", -1, &body);
    bson_append_int64(&copy, "keyId", -1, 2);
    CHECK_THROWS_AS(from_document(&copy, keys.get()), key_error);
    bson_destroy(&copy);
  }
}

TEST_CASE("mongo: access log document", "[mongo]") {
  auto doc = access_document({"alice", "n1", "1.2.3.4:5", "disconnect", "slow consumer", 7});
  CHECK(json(doc.get()) ==
        R"({ "userId" : "alice", "node" : "n1", "remote" : "1.2.3.4:5", "event" : )"
        R"("disconnect", "reason" : "slow consumer", "createdAt" : { "$date" : { )"
        R"("$numberLong" : "7" } } })");
}

TEST_CASE("mongo: a retried batch (duplicates only) counts as success", "[mongo]") {
  auto only_dups = [](const char* reply_json, size_t docs) {
    bson_error_t err;
    bson_t* reply = bson_new_from_json(reinterpret_cast<const uint8_t*>(reply_json), -1, &err);
    REQUIRE(reply);
    bool result = insert_only_duplicates(reply, docs);
    bson_destroy(reply);
    return result;
  };
  const char* dup = R"({"index": 0, "code": 11000, "errmsg": "E11000"})";
  auto reply = [](std::string inserted, std::string errors) {
    return R"({"insertedCount": )" + inserted + R"(, "writeErrors": [)" + errors + "]}";
  };
  CHECK(only_dups(reply("3", dup).c_str(), 4));
  CHECK(only_dups(reply("0", std::string(dup) + "," + dup).c_str(), 2));
  CHECK_FALSE(only_dups(reply("2", dup).c_str(), 4)); // a document is unaccounted for
  CHECK_FALSE(only_dups(reply("3", "").c_str(), 4));
  CHECK_FALSE(only_dups(reply("2", std::string(dup) + R"(, {"index": 1, "code": 121})").c_str(), 4));
  CHECK_FALSE(only_dups(R"({"writeErrors": [{"index": 0, "code": 11000}]})", 1));
  CHECK_FALSE(only_dups(R"({"insertedCount": 0, "writeErrors": [{"index": 0, "code": 11000}],)"
                        R"( "writeConcernErrors": [{"code": 64}]})", 1));
  CHECK_FALSE(only_dups(R"({"insertedCount": 0})", 1));
}

TEST_CASE("mongo: passwords are redacted from uris in messages", "[mongo]") {
  CHECK(redact_uri("mongodb://127.0.0.1:27017") == "mongodb://127.0.0.1:27017");
  CHECK(redact_uri("mongodb://u:p%40ss@h1:27017,h2/db?x=1") == "mongodb://u:***@h1:27017,h2/db?x=1");
  CHECK(redact_uri("mongodb://user@h/db") == "mongodb://user@h/db");
  CHECK(redact_uri("mongodb+srv://a:b@c/?w=majority&x=@") == "mongodb+srv://a:***@c/?w=majority&x=@");
}

TEST_CASE("mongo: an unreachable server fails fast with a clear message", "[mongo]") {
  auto start = std::chrono::steady_clock::now();
  try {
    mongo_store store("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=60000", "chat", 1000,
                      nullptr);
    FAIL("connected to 127.0.0.1:1");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    INFO(what);
    CHECK(what.rfind("cannot reach MongoDB at mongodb://127.0.0.1:1/?serverSelectionTimeoutMS"
                     "=60000 within 1000 ms: ", 0) == 0);
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(3));
}

TEST_CASE("mongo: a malformed uri is rejected", "[mongo]") {
  CHECK_THROWS_WITH(mongo_store("http://nope", "chat", 1000, nullptr),
                    Catch::StartsWith("invalid MongoDB uri http://nope"));
  CHECK_THROWS_AS(mongo_store("mongodb://h", "chat", 0, nullptr), std::invalid_argument);
}

// --- integration: a real server -----------------------------------------------------------

namespace {

// A uniquely named database, dropped at the end.
struct live_db {
  std::string uri;
  std::string name = "chat_test_" + std::to_string(::getpid()) + "_" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  mongoc_client_t* client = nullptr;
  explicit live_db(std::string u) : uri(std::move(u)) {}
  ~live_db() {
    if (!client)
      return;
    auto* db = mongoc_client_get_database(client, name.c_str());
    mongoc_database_drop_with_opts(db, nullptr, nullptr);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);
  }
  // Call after a mongo_store was constructed (it initializes the driver).
  void connect() { client = mongoc_client_new(uri.c_str()); }
  std::vector<std::string> index_names(const char* coll) {
    auto* c = mongoc_client_get_collection(client, name.c_str(), coll);
    auto* cur = mongoc_collection_find_indexes_with_opts(c, nullptr);
    std::vector<std::string> out;
    const bson_t* doc;
    while (mongoc_cursor_next(cur, &doc)) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "name"))
        out.push_back(bson_iter_utf8(&it, nullptr));
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    std::sort(out.begin(), out.end());
    return out;
  }
  int64_t count(const char* coll, const char* raw_needle = nullptr) {
    auto* c = mongoc_client_get_collection(client, name.c_str(), coll);
    bson_t filter = BSON_INITIALIZER;
    auto* cur = mongoc_collection_find_with_opts(c, &filter, nullptr, nullptr);
    int64_t n = 0;
    const bson_t* doc;
    while (mongoc_cursor_next(cur, &doc))
      if (!raw_needle || raw_bytes(doc).find(raw_needle) != std::string::npos)
        ++n;
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return n;
  }
};

const char* live_uri() {
  const char* uri = std::getenv("CHAT_TEST_MONGO_URI");
  return uri && *uri ? uri : nullptr;
}

stored_message msg(const std::string& room, uint64_t seq, const std::string& text = "t") {
  return {room, seq, "alice", "c" + room + "-" + std::to_string(seq), text, int64_t(seq)};
}

} // namespace

TEST_CASE("mongo live: indexes, batches, queries, duplicates", "[mongo][.integration]") {
  REQUIRE(live_uri());
  live_db live(live_uri());
  mongo_store store(live.uri, live.name, 5000, nullptr);
  live.connect();
  CHECK(store.reachable());
  CHECK(live.index_names("messages") == std::vector<std::string>{
    "_id_", "roomId_1_createdAt_-1", "roomId_1_seq_1", "userId_1", "userId_1_cid_1"});
  CHECK(live.index_names("users") == std::vector<std::string>{"_id_", "isOnline_1", "username_1"});
  mongo_store again(live.uri, live.name, 5000, nullptr); // indexes exist: no conflict

  std::vector<stored_message> batch;
  for (uint64_t s = 1; s <= 10; ++s)
    batch.push_back(msg("r", s));
  store.insert_batch(batch);
  store.insert_batch(batch);
  auto dup_cid = msg("r", 11);
  dup_cid.cid = "cr-1";
  auto no_cid1 = msg("r", 12), no_cid2 = msg("r", 13);
  no_cid1.cid.clear();
  no_cid2.cid.clear();
  store.insert_batch({msg("r", 5, "changed"), dup_cid, no_cid1, no_cid2, msg("r", 14)});
  CHECK(live.count("messages") == 13);
  auto h = store.history("r", 0, 3);
  REQUIRE(h.size() == 3);
  CHECK(h[0].seq == 12);
  CHECK(h[2].seq == 14);
  CHECK(store.history("r", 3, 10).size() == 2);
  auto s = store.since("r", 4, 2);
  REQUIRE(s.size() == 2);
  CHECK(s[0].seq == 5);
  CHECK(s[0].text == "t");
  CHECK(store.last_seq("r") == 14);
  CHECK(store.last_seq("empty") == 0);
  CHECK(store.find_cid("r", "alice", "cr-3") == 3);
  CHECK(store.find_cid("other", "alice", "cr-3") == 0);
}

TEST_CASE("mongo live: encryption, users, access log", "[mongo][.integration]") {
  REQUIRE(live_uri());
  live_db live(live_uri());
  const std::string secret = "PLAINTEXT-MARKER-live";
  {
    mongo_store store(live.uri, live.name, 5000, ring(key1));
    store.insert_batch({msg("r", 1, secret)});
  }
  mongo_store store(live.uri, live.name, 5000, ring(key1 + "\n" + key2));
  live.connect();
  store.insert_batch({msg("r", 2, secret)});
  CHECK(live.count("messages", secret.c_str()) == 0);
  auto all = store.since("r", 0, 10);
  REQUIRE(all.size() == 2);
  CHECK(all[0].text == secret);
  CHECK(all[1].text == secret);

  CHECK_FALSE(store.is_online("alice"));
  store.set_online("alice", true, 10);
  CHECK(store.is_online("alice"));
  store.set_online("alice", false, 20);
  CHECK_FALSE(store.is_online("alice"));
  CHECK(live.count("users") == 1);

  store.log_access({{"alice", "n1", "1.2.3.4:5", "connect", "", 1},
                    {"alice", "n1", "1.2.3.4:5", "disconnect", "client closed", 2}});
  CHECK(live.count("access_log") == 2);
}
