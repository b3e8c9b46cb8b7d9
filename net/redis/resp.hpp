// RESP2, the Redis wire protocol: commands we write (arrays of bulk strings, formatted by
// us) and replies we read (parsed by hiredis's reader, then copied into `reply`, a plain
// value that callers may keep and move across threads).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace chat::redis {

struct reply {
  enum class kind : uint8_t { nil, status, error, integer, string, array };
  kind type = kind::nil;
  int64_t integer = 0;
  std::string str; // status, error and string replies
  std::vector<reply> elements;

  bool is_error() const { return type == kind::error; }
  bool is_string() const { return type == kind::string || type == kind::status; }
  bool is_array() const { return type == kind::array; }
  // True for an error reply whose text starts with `prefix` followed by a space or the end
  // ("MOVED", "NOSCRIPT", ...).
  bool error_is(std::string_view prefix) const;
};

// Appends one command (an array of bulk strings: binary-safe) to `out`.
void append_command(std::string& out, std::initializer_list<std::string_view> args);
void append_command(std::string& out, const std::vector<std::string_view>& args);

// Builds commands argument by argument when their number is only known at run time:
// `append_array_header(out, n)`, then exactly n `append_bulk(out, a)`.
void append_array_header(std::string& out, size_t n);
void append_bulk(std::string& out, std::string_view arg);

// Feeds bytes from the network and yields complete replies. Wraps a hiredis reader. A
// reply may hold at most 2^20 elements per array and 2^21 in all, and `max_reply_bytes`
// of objects (sizeof(reply) each, plus its string) and buffered input; a larger one is a
// protocol error.
class reader {
public:
  static constexpr size_t default_max_reply_bytes = 64u << 20;
  explicit reader(size_t max_reply_bytes = default_max_reply_bytes);
  ~reader();
  reader(const reader&) = delete;
  reader& operator=(const reader&) = delete;

  // False on a protocol error (the stream cannot be trusted any more).
  bool feed(const char* data, size_t n);
  // 1: `out` holds the next reply; 0: more bytes are needed; -1: protocol error.
  int next(reply& out);
  // Forgets buffered bytes (a new connection starts).
  void reset();
  std::string error() const;

  struct budget; // what the reply being read has used (defined in the .cpp)

private:
  redisReader* r_;
  std::unique_ptr<budget> budget_;
};

// Parses a whole decimal integer (optional '-'), as Redis writes them; false otherwise.
bool parse_int(std::string_view s, int64_t& out);
bool parse_uint(std::string_view s, uint64_t& out);

} // namespace chat::redis
