// Command formatting and reply reading. The hiredis reader parses; its object hooks build
// our `reply` tree directly (no hiredis reply objects to copy), and they refuse arrays
// longer than max_array_elements before anything is allocated for them.
#include "net/redis/resp.hpp"

#include <hiredis/read.h>

#include <charconv>
#include <limits>
#include <new>

namespace chat::redis {

namespace {

// Our largest legitimate replies (XRANGE pages, CLUSTER SLOTS, a node's presence hash)
// stay far below these: per array, and for all arrays of one reply together (the reader's
// privdata counts them), so one reply costs at most ~150 MB whatever the server sends.
constexpr int max_array_elements = 1 << 20;
constexpr size_t max_reply_elements = 1 << 21;

// Where a new object goes: a fresh root, or its slot in the parent array (sized when the
// parent was created, so the pointer stays valid).
reply* slot_for(const redisReadTask* task) {
  if (task->parent == nullptr)
    return new (std::nothrow) reply();
  auto* parent = static_cast<reply*>(task->parent->obj);
  return &parent->elements[size_t(task->idx)];
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
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
  auto* used = static_cast<size_t*>(task->privdata);
  if (task->parent == nullptr)
    *used = 0; // a new reply starts
  if (elements < 0 || elements > max_array_elements
      || *used + size_t(elements) > max_reply_elements)
    return nullptr; // the reader reports an error and stops
  *used += size_t(elements);
  reply* r = slot_for(task);
  if (!r)
    return nullptr;
  r->type = reply::kind::array;
  r->elements.resize(size_t(elements));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  reply* r = slot_for(task);
  if (!r)
    return nullptr;
  r->type = reply::kind::integer;
  r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) {
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

reader::reader() : r_(redisReaderCreateWithFunctions(&functions)) {
  if (!r_)
    throw std::bad_alloc();
  r_->privdata = &elements_;
}

reader::~reader() { redisReaderFree(r_); }

bool reader::feed(const char* data, size_t n) { return redisReaderFeed(r_, data, n) == REDIS_OK; }

int reader::next(reply& out) {
  void* obj = nullptr;
  if (redisReaderGetReply(r_, &obj) != REDIS_OK)
    return -1;
  if (!obj)
    return 0;
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
  r_->privdata = &elements_;
}

std::string reader::error() const { return r_->errstr; }

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
