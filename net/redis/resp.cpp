// Command formatting and reply reading. The hiredis reader parses; its object hooks build
// our `reply` tree directly (no hiredis reply objects to copy). A reply is bounded by its
// elements (counted when an array's header declares them, before anything is kept) and by
// its bytes (each object kept, its string included, plus what hiredis buffers for the item
// it waits on, e.g. a bulk string's declared length). Arrays grow as their elements
// arrive, so a header alone costs nothing.
#include "net/redis/resp.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <new>

namespace chat::redis {

namespace {

// Our largest legitimate replies (XRANGE pages, CLUSTER SLOTS, a node's presence hash)
// stay far below these: per array, and for all arrays of one reply together.
constexpr int max_array_elements = 1 << 20;
constexpr size_t max_reply_elements = 1 << 21;
// Elements reserved when an array's header arrives; more grow the array as they come.
constexpr size_t array_presize = 64;

} // namespace

// What the reply being read has used so far (the reader's privdata).
struct reader::budget {
  size_t elements = 0;
  size_t bytes = 0;
  size_t max_bytes = 0;
  const char* refused = nullptr; // why the hooks refused an object (hiredis says "OOM")
};

namespace {

using budget = reader::budget;

// Charges a new object (its reply and `extra` bytes of string) to its reply's budget, which
// a new root resets; false when that would pass the byte bound.
bool charge(const redisReadTask* task, size_t extra) {
  auto* b = static_cast<budget*>(task->privdata);
  if (task->parent == nullptr) {
    b->elements = 0;
    b->bytes = 0;
  }
  size_t cost = sizeof(reply) + extra;
  if (extra > b->max_bytes || cost > b->max_bytes - std::min(b->bytes, b->max_bytes)) {
    b->refused = "bytes";
    return false;
  }
  b->bytes += cost;
  return true;
}

// Where a new object goes: a fresh root, or the next slot of its parent array. hiredis
// creates a parent's elements in order and keeps pointers only to the arrays still being
// filled (the new object's ancestors), which appending to the parent does not move.
reply* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr)
    return new (std::nothrow) reply();
  auto* parent = static_cast<reply*>(task->parent->obj);
  if (task->idx < 0 || size_t(task->idx) != parent->elements.size())
    return nullptr;
  return &parent->elements.emplace_back();
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  if (!charge(task, len))
    return nullptr; // the reader reports an error and stops
  reply* r = slot_for(task);
  if (!r)
    return nullptr;
  r->type = task->type == REDIS_REPLY_ERROR    ? reply::kind::error
            : task->type == REDIS_REPLY_STATUS ? reply::kind::status
                                               : reply::kind::string;
  r->str.assign(str, len);
  return r;
}

void* create_array(const redisReadTask* task, int elements) {
  if (!charge(task, 0))
    return nullptr;
  auto& b = *static_cast<budget*>(task->privdata);
  if (elements < 0 || elements > max_array_elements
      || b.elements + size_t(elements) > max_reply_elements) {
    b.refused = "elements";
    return nullptr;
  }
  b.elements += size_t(elements);
  reply* r = slot_for(task);
  if (!r)
    return nullptr;
  r->type = reply::kind::array;
  r->elements.reserve(std::min(size_t(elements), array_presize));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  if (!charge(task, 0))
    return nullptr;
  reply* r = slot_for(task);
  if (!r)
    return nullptr;
  r->type = reply::kind::integer;
  r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) {
  if (!charge(task, 0))
    return nullptr;
  reply* r = slot_for(task);
  if (!r)
    return nullptr;
  r->type = reply::kind::nil;
  return r;
}

// Called for roots only (children live inside their parent).
void free_object(void* obj) { delete static_cast<reply*>(obj); }

redisReplyObjectFunctions functions = {create_string, create_array, create_integer, create_nil,
                                       free_object};

void append_decimal(std::string& out, char prefix, uint64_t n) {
  char buf[24];
  buf[0] = prefix;
  auto res = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
  *res.ptr++ = '\r';
  *res.ptr++ = '\n';
  out.append(buf, size_t(res.ptr - buf));
}

} // namespace

bool reply::error_is(std::string_view prefix) const {
  if (type != kind::error || str.size() < prefix.size())
    return false;
  if (std::string_view(str).substr(0, prefix.size()) != prefix)
    return false;
  return str.size() == prefix.size() || str[prefix.size()] == ' ';
}

void append_array_header(std::string& out, size_t n) { append_decimal(out, '*', n); }

void append_bulk(std::string& out, std::string_view arg) {
  append_decimal(out, '$', arg.size());
  out.append(arg.data(), arg.size());
  out.append("\r\n", 2);
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
  append_array_header(out, args.size());
  for (auto a : args)
    append_bulk(out, a);
}

void append_command(std::string& out, const std::vector<std::string_view>& args) {
  append_array_header(out, args.size());
  for (auto a : args)
    append_bulk(out, a);
}

reader::reader(size_t max_reply_bytes)
    : r_(redisReaderCreateWithFunctions(&functions)), budget_(std::make_unique<budget>()) {
  if (!r_)
    throw std::bad_alloc();
  budget_->max_bytes = max_reply_bytes;
  r_->privdata = budget_.get();
}

reader::~reader() { redisReaderFree(r_); }

bool reader::feed(const char* data, size_t n) { return redisReaderFeed(r_, data, n) == REDIS_OK; }

int reader::next(reply& out) {
  void* obj = nullptr;
  if (redisReaderGetReply(r_, &obj) != REDIS_OK)
    return -1;
  if (!obj) {
    // Waiting for more: what the unfinished reply holds and what hiredis buffers for it.
    size_t kept = r_->ridx >= 0 ? budget_->bytes : 0;
    size_t buffered = r_->len - r_->pos;
    if (buffered > budget_->max_bytes || kept > budget_->max_bytes - buffered) {
      budget_->refused = "bytes";
      return -1;
    }
    return 0;
  }
  auto* r = static_cast<reply*>(obj);
  out = std::move(*r);
  delete r;
  return 1;
}

void reader::reset() {
  auto* fresh = redisReaderCreateWithFunctions(&functions);
  if (!fresh)
    throw std::bad_alloc();
  redisReaderFree(r_);
  r_ = fresh;
  r_->privdata = budget_.get();
  budget_->refused = nullptr;
}

std::string reader::error() const {
  if (!budget_->refused)
    return r_->errstr;
  if (std::string_view(budget_->refused) == "bytes")
    return "a reply over " + std::to_string(budget_->max_bytes) + " bytes";
  return "a reply over " + std::to_string(max_array_elements) + " elements in an array or "
         + std::to_string(max_reply_elements) + " in all";
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty())
    return false;
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

bool parse_uint(std::string_view s, uint64_t& out) {
  if (s.empty() || s[0] < '0' || s[0] > '9')
    return false;
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

} // namespace chat::redis
