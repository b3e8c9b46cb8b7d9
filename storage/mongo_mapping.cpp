// Mongo document mapping and index specs (see mongo_mapping.hpp).
#include "storage/mongo_mapping.hpp"

namespace chat::storage {

namespace {

void append_str(bson_t* b, const char* key, const std::string& v) {
  bson_append_utf8(b, key, -1, v.data(), static_cast<int>(v.size()));
}

std::string iter_str(const bson_iter_t* it) {
  uint32_t len = 0;
  const char* s = bson_iter_utf8(it, &len);
  return s ? std::string(s, len) : std::string();
}

} // namespace

std::vector<index_spec> mongo_index_specs() {
  return {
    {"messages", "roomId_1_createdAt_-1", {{"roomId", 1}, {"createdAt", -1}}, false, ""},
    {"messages", "userId_1", {{"userId", 1}}, false, ""},
    {"messages", "roomId_1_seq_1", {{"roomId", 1}, {"seq", 1}}, true, ""},
    {"messages", "userId_1_cid_1", {{"userId", 1}, {"cid", 1}}, true, "cid"},
    {"users", "username_1", {{"username", 1}}, true, ""},
    {"users", "isOnline_1", {{"isOnline", 1}}, false, ""},
  };
}

bson_ptr index_document(const index_spec& spec) {
  bson_ptr doc(bson_new());
  bson_t key;
  bson_append_document_begin(doc.get(), "key", -1, &key);
  for (const auto& [field, order] : spec.keys)
    bson_append_int32(&key, field.c_str(), -1, order);
  bson_append_document_end(doc.get(), &key);
  append_str(doc.get(), "name", spec.name);
  if (spec.unique)
    bson_append_bool(doc.get(), "unique", -1, true);
  if (!spec.partial_exists.empty()) {
    bson_t filter, cond;
    bson_append_document_begin(doc.get(), "partialFilterExpression", -1, &filter);
    bson_append_document_begin(&filter, spec.partial_exists.c_str(), -1, &cond);
    bson_append_bool(&cond, "$exists", -1, true);
    bson_append_document_end(&filter, &cond);
    bson_append_document_end(doc.get(), &filter);
  }
  return doc;
}

bson_ptr to_document(const stored_message& m, const key_ring* keys) {
  bson_ptr doc(bson_new());
  append_str(doc.get(), "roomId", m.room);
  bson_append_int64(doc.get(), "seq", -1, static_cast<int64_t>(m.seq));
  append_str(doc.get(), "userId", m.user);
  if (!m.cid.empty())
    append_str(doc.get(), "cid", m.cid);
  auto append_body = [&](uint32_t key_id, const std::string& body) {
    bson_append_int64(doc.get(), "keyId", -1, key_id);
    bson_append_binary(doc.get(), "body", -1, BSON_SUBTYPE_BINARY,
                       reinterpret_cast<const uint8_t*>(body.data()),
                       static_cast<uint32_t>(body.size()));
  };
  if (keys) {
    auto sealed = keys->encrypt(m.text, key_ring::message_ad(m.room, m.seq));
    append_body(sealed.key_id, sealed.blob);
  } else if (bson_utf8_validate(m.text.data(), m.text.size(), false)) {
    append_str(doc.get(), "text", m.text);
  } else {
    append_body(0, m.text);
  }
  bson_append_date_time(doc.get(), "createdAt", -1, m.ts_ms);
  return doc;
}

stored_message from_document(const bson_t* doc, const key_ring* keys) {
  stored_message m;
  int64_t key_id = 0;
  bool has_body = false;
  std::string body;
  bson_iter_t it;
  if (!bson_iter_init(&it, doc))
    throw std::runtime_error("malformed message document");
  while (bson_iter_next(&it)) {
    std::string_view key = bson_iter_key(&it);
    auto type = bson_iter_type(&it);
    if (key == "roomId" && type == BSON_TYPE_UTF8) {
      m.room = iter_str(&it);
    } else if (key == "userId" && type == BSON_TYPE_UTF8) {
      m.user = iter_str(&it);
    } else if (key == "cid" && type == BSON_TYPE_UTF8) {
      m.cid = iter_str(&it);
    } else if (key == "text" && type == BSON_TYPE_UTF8) {
      m.text = iter_str(&it);
    } else if (key == "seq" && BSON_ITER_HOLDS_NUMBER(&it)) {
      m.seq = static_cast<uint64_t>(bson_iter_as_int64(&it));
    } else if (key == "keyId" && BSON_ITER_HOLDS_NUMBER(&it)) {
      key_id = bson_iter_as_int64(&it);
    } else if (key == "createdAt" && type == BSON_TYPE_DATE_TIME) {
      m.ts_ms = bson_iter_date_time(&it);
    } else if (key == "body" && type == BSON_TYPE_BINARY) {
      bson_subtype_t subtype;
      uint32_t len = 0;
      const uint8_t* data = nullptr;
      bson_iter_binary(&it, &subtype, &len, &data);
      body.assign(reinterpret_cast<const char*>(data), len);
      has_body = true;
    }
  }
  if (has_body && key_id == 0) {
    m.text = std::move(body);
  } else if (has_body) {
    if (!keys)
      throw key_error("message " + m.room + "/" + std::to_string(m.seq) +
                      " is encrypted (key id " + std::to_string(key_id) +
                      ") but no key file is configured");
    if (key_id < 0 || key_id > UINT32_MAX)
      throw key_error("message " + m.room + "/" + std::to_string(m.seq) + ": bad keyId");
    m.text = keys->decrypt(static_cast<uint32_t>(key_id), body,
                           key_ring::message_ad(m.room, m.seq));
  }
  return m;
}

bson_ptr access_document(const access_entry& e) {
  bson_ptr doc(bson_new());
  append_str(doc.get(), "userId", e.user);
  append_str(doc.get(), "node", e.node);
  append_str(doc.get(), "remote", e.remote);
  append_str(doc.get(), "event", e.event);
  append_str(doc.get(), "reason", e.reason);
  bson_append_date_time(doc.get(), "createdAt", -1, e.ts_ms);
  return doc;
}

bool insert_only_duplicates(const bson_t* reply, size_t docs) {
  bson_iter_t it, errs;
  if (bson_iter_init_find(&it, reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it)
      && bson_iter_recurse(&it, &errs) && bson_iter_next(&errs))
    return false;
  if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it)
      || !bson_iter_recurse(&it, &errs))
    return false;
  size_t dups = 0;
  while (bson_iter_next(&errs)) {
    bson_iter_t code;
    if (!BSON_ITER_HOLDS_DOCUMENT(&errs) || !bson_iter_recurse(&errs, &code)
        || !bson_iter_find(&code, "code") || bson_iter_as_int64(&code) != mongo_duplicate_key)
      return false;
    ++dups;
  }
  if (!bson_iter_init_find(&it, reply, "insertedCount") || !BSON_ITER_HOLDS_NUMBER(&it))
    return false;
  return dups > 0 && static_cast<size_t>(bson_iter_as_int64(&it)) + dups == docs;
}

std::vector<size_t> cid_duplicates(const bson_t* reply) {
  std::vector<size_t> out;
  bson_iter_t it, errs;
  if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it)
      || !bson_iter_recurse(&it, &errs))
    return out;
  while (bson_iter_next(&errs)) {
    bson_iter_t field;
    if (!BSON_ITER_HOLDS_DOCUMENT(&errs) || !bson_iter_recurse(&errs, &field))
      continue;
    int64_t index = -1, code = 0;
    bool on_cid = false;
    while (bson_iter_next(&field)) {
      std::string_view key = bson_iter_key(&field);
      if (key == "index" && BSON_ITER_HOLDS_NUMBER(&field))
        index = bson_iter_as_int64(&field);
      else if (key == "code" && BSON_ITER_HOLDS_NUMBER(&field))
        code = bson_iter_as_int64(&field);
      else if (key == "errmsg" && BSON_ITER_HOLDS_UTF8(&field))
        on_cid = iter_str(&field).find("userId_1_cid_1") != std::string::npos;
    }
    if (code == mongo_duplicate_key && on_cid && index >= 0)
      out.push_back(static_cast<size_t>(index));
  }
  return out;
}

std::string redact_uri(const std::string& uri) {
  auto scheme = uri.find("://");
  if (scheme == std::string::npos)
    return uri;
  auto start = scheme + 3;
  auto host_end = uri.find_first_of("/?", start);
  auto at = uri.rfind('@', host_end == std::string::npos ? std::string::npos : host_end);
  if (at == std::string::npos || at < start)
    return uri;
  auto colon = uri.find(':', start);
  if (colon == std::string::npos || colon > at)
    return uri;
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
}

} // namespace chat::storage
