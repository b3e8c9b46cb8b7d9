// Pure mapping between the store's types and MongoDB documents, plus the index specs the
// Mongo backend creates at start-up. No server needed: unit tests exercise these directly.
#pragma once

#include "storage/key_ring.hpp"
#include "storage/message_store.hpp"

#include <bson/bson.h>

#include <utility>
#include <string>
#include <vector>

namespace chat::storage {

// Owns a heap bson_t (bson_t is over-aligned, so it cannot be a unique_ptr argument).
class bson_ptr {
public:
  explicit bson_ptr(bson_t* b = nullptr) : b_(b) {}
  bson_ptr(bson_ptr&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  bson_ptr& operator=(bson_ptr&& o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~bson_ptr() {
    if (b_)
      bson_destroy(b_);
  }
  bson_t* get() const { return b_; }

private:
  bson_t* b_;
};

struct index_spec {
  std::string collection;
  std::string name; // Mongo's default name, so indexes made by earlier deployments match
  std::vector<std::pair<std::string, int>> keys; // field, 1 or -1, in order
  bool unique = false;
  // Non-empty: the index only covers documents where this field exists
  // (partialFilterExpression {field: {$exists: true}}).
  std::string partial_exists;
};

// messages {roomId:1, createdAt:-1}, {userId:1}, unique {roomId:1, seq:1}, unique
// {userId:1, cid:1} (partial: only messages that carry a cid); users unique {username:1},
// {isOnline:1}.
std::vector<index_spec> mongo_index_specs();

// The element of a createIndexes command's `indexes` array for `spec`.
bson_ptr index_document(const index_spec& spec);

// Message document: roomId, seq (int64), userId, cid (omitted when empty), createdAt (date),
// and either text (UTF-8 string) or keyId (int64) + body (binary). With a key ring the body
// is the sealed blob bound to (room, seq) and keyId the key id; without one keyId is 0 and
// body holds text that is not valid UTF-8 (so it round-trips byte for byte).
bson_ptr to_document(const stored_message& m, const key_ring* keys);
// Inverse of to_document. Throws key_error when the body is encrypted and `keys` is null or
// lacks the key or the blob fails authentication.
stored_message from_document(const bson_t* doc, const key_ring* keys);

// access_log document: userId, node, remote, event, reason, createdAt (date).
bson_ptr access_document(const access_entry& e);

// MongoDB's error code for a duplicate key.
constexpr int32_t mongo_duplicate_key = 11000;

// True when the reply of a failed insert_many of `docs` documents shows only duplicate-key
// (mongo_duplicate_key) write errors and every document is accounted for (inserted or duplicate): a
// retried batch. The count matters: a batch the driver splits into several commands reports
// its first write error even when a later command failed on the network.
bool insert_only_duplicates(const bson_t* reply, size_t docs);

// Indexes (into the inserted documents) of the write errors of a failed insert_many that
// are duplicates on the (userId, cid) index: messages whose cid another message holds.
std::vector<size_t> cid_duplicates(const bson_t* reply);

// The uri with any password replaced by "***", for error messages.
std::string redact_uri(const std::string& uri);

} // namespace chat::storage
