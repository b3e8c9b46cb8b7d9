// Decoder of client frames of the native protocol, on RapidJSON's SAX reader: no document
// is built. The handler keeps only the top-level fields the protocol knows and skips the
// rest, so memory stays within a small multiple of the frame whatever its shape; nesting
// deeper than max_json_depth stops the parse (so the reader's recursion is bounded too);
// every string and key is checked to be valid Unicode after unescaping, which also
// catches what no byte check can: a `\u` escape of a lone surrogate.
#include "net/auth/token.hpp"
#include "net/field_rules.hpp"
#include "net/native_codec.hpp"
#include "net/unicode.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace chat::net {

namespace {

constexpr uint32_t max_history = 500;
constexpr const char* unicode_reason = " (invalid UTF-8 or an unpaired surrogate escape)";

enum class kind : uint8_t { absent, null, boolean, string, uint, negative, real, array, object };

enum field : uint8_t { f_op, f_rid, f_room, f_text, f_cid, f_ack, f_since, f_before, f_limit,
                       f_seq, f_users, f_token, field_count, f_other };

constexpr std::array<std::string_view, field_count> field_names = {
  "op", "rid", "room", "text", "cid", "ack", "since", "before", "limit", "seq", "users",
  "token"};

struct value {
  kind k = kind::absent;
  std::string str;
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
};

// The SAX handler: records the top-level fields (depth 1), collects `users` (depth 2),
// and stops the parse with `err` set on anything that is wrong at any depth.
class top_level_fields {
public:
  std::array<value, field_count> fields;
  std::vector<std::string> users;
  std::string users_problem; // reported only if the op reads `users`
  std::string err;
  bool object_seen = false; // the root was an object (a scalar root shows only after the parse)

  bool Null() { return scalar(kind::null); }
  bool Bool(bool) { return scalar(kind::boolean); }
  bool Int(int v) { return Int64(v); }
  bool Uint(unsigned v) { return Uint64(v); }
  bool Int64(int64_t v) {
    if (v >= 0)
      return Uint64(uint64_t(v));
    if (auto* f = slot(kind::negative))
      f->i = v;
    return done();
  }
  bool Uint64(uint64_t v) {
    if (auto* f = slot(kind::uint))
      f->u = v;
    return done();
  }
  bool Double(double v) {
    if (auto* f = slot(kind::real))
      f->d = v;
    return done();
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return fail("unexpected raw number"); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    std::string_view text(s, n);
    if (!utf8_valid(text))
      return not_unicode();
    if (depth_ == 2 && in_users_)
      add_user(text);
    if (auto* f = slot(kind::string))
      f->str.assign(text);
    return done();
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    std::string_view name(s, n);
    if (!utf8_valid(name))
      return fail(std::string("a key is not valid Unicode") + unicode_reason);
    if (depth_ != 1)
      return true;
    current_ = f_other;
    for (uint8_t f = 0; f < field_count && current_ == f_other; ++f)
      if (field_names[f] == name)
        current_ = field(f);
    if (current_ != f_other && fields[current_].k != kind::absent)
      return fail("duplicate field '" + std::string(name) + "'");
    return true;
  }
  bool StartObject() { return open(kind::object); }
  bool StartArray() { return open(kind::array); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  // What the string being parsed belongs to, for error messages.
  std::string where() const {
    if (depth_ == 1 && current_ != f_other)
      return "field '" + std::string(field_names[current_]) + "'";
    return "a string";
  }

private:
  size_t depth_ = 0;
  field current_ = f_other; // the depth-1 field whose value comes next
  bool in_users_ = false;

  bool fail(std::string message) {
    err = std::move(message);
    return false;
  }
  bool not_unicode() { return fail(where() + " is not valid Unicode" + unicode_reason); }
  // The record for a scalar of kind `k` at depth 1, or nullptr when it is not kept.
  value* slot(kind k) {
    if (depth_ == 2 && in_users_ && k != kind::string && users_problem.empty())
      users_problem = "field 'users' must be an array of strings";
    if (depth_ != 1 || current_ == f_other)
      return nullptr;
    fields[current_].k = k;
    return &fields[current_];
  }
  bool scalar(kind k) {
    slot(k);
    return done();
  }
  bool done() {
    if (depth_ == 1)
      current_ = f_other;
    return true;
  }
  bool open(kind k) {
    if (depth_ == 0 && k != kind::object)
      return fail("a frame must be a JSON object");
    object_seen = true;
    if (depth_ == max_json_depth)
      return fail("JSON nested deeper than " + std::to_string(max_json_depth) + " levels");
    if (depth_ == 1) {
      slot(k);
      in_users_ = current_ == f_users && k == kind::array;
    } else if (depth_ == 2 && in_users_ && users_problem.empty()) {
      users_problem = "field 'users' must be an array of strings";
    }
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    if (depth_ == 1)
      in_users_ = false;
    return done();
  }
  void add_user(std::string_view name) {
    if (!users_problem.empty())
      return;
    if (users.size() == max_presence_users)
      users_problem = "at most " + std::to_string(max_presence_users) + " users per presence query";
    else if (auto p = printable_problem(name, max_user_bytes); !p.empty())
      users_problem = "entries of field 'users' " + p;
    else
      users.emplace_back(name);
  }
};

} // namespace

command invalid_command(std::string message, std::string rid) {
  command c;
  c.kind = op::invalid;
  c.err = error_code::bad_request;
  c.err_message = std::move(message);
  c.rid = std::move(rid);
  return c;
}

namespace {

command invalid(std::string message, std::string rid = {}) {
  return invalid_command(std::move(message), std::move(rid));
}

std::string quoted(field f) { return "'" + std::string(field_names[f]) + "'"; }

// The reply id as JSON text, or "" when the frame has no usable one.
std::string rid_json(const value& v) {
  thread_local rapidjson::StringBuffer buf;
  buf.Clear();
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  switch (v.k) {
    case kind::string:
      if (v.str.size() > max_rid_bytes)
        return {};
      w.String(v.str);
      break;
    case kind::uint: w.Uint64(v.u); break;
    case kind::negative: w.Int64(v.i); break;
    case kind::real: w.Double(v.d); break;
    default: return {};
  }
  return {buf.GetString(), buf.GetSize()};
}

// Field readers: each answers "" or the error for the frame.
std::string take_string(value& v, field f, std::string& out, bool required = true) {
  if (v.k == kind::absent)
    return required ? "missing field " + quoted(f) : std::string();
  if (v.k != kind::string)
    return "field " + quoted(f) + " must be a string";
  out = std::move(v.str);
  return {};
}

std::string take_uint(const value& v, field f, uint64_t& out, bool& present) {
  present = v.k != kind::absent && v.k != kind::null;
  if (present && v.k != kind::uint)
    return "field " + quoted(f) + " must be a non-negative integer";
  if (present)
    out = v.u;
  return {};
}

std::string take_room(value& v, command& c) {
  if (auto e = take_string(v, f_room, c.room); !e.empty())
    return e;
  if (auto p = room_name_problem(c.room); !p.empty())
    return "field 'room' " + p;
  return {};
}

std::string take_cid(value& v, command& c) {
  if (v.k == kind::uint)
    c.cid = std::to_string(v.u);
  else if (v.k == kind::absent)
    return "missing field 'cid'";
  else if (v.k != kind::string)
    return "field 'cid' must be a string or a non-negative integer";
  else
    c.cid = std::move(v.str);
  if (auto p = printable_problem(c.cid, max_cid_bytes); !p.empty())
    return "field 'cid' " + p;
  return {};
}

std::string take_ack(value& v, command& c) {
  std::string ack;
  if (auto e = take_string(v, f_ack, ack, false); !e.empty() || v.k == kind::absent)
    return e;
  if (ack != "seq" && ack != "persisted")
    return "field 'ack' must be \"seq\" or \"persisted\"";
  c.ack_given = true;
  c.ack_persisted = ack == "persisted";
  return {};
}

std::string take_fields(top_level_fields& h, command& c) {
  auto& f = h.fields;
  bool present = false;
  std::string e;
  switch (c.kind) {
    case op::join:
      if ((e = take_room(f[f_room], c)).empty())
        e = take_uint(f[f_since], f_since, c.seq, c.has_seq);
      return e;
    case op::leave:
    case op::typing:
      return take_room(f[f_room], c);
    case op::read:
      if ((e = take_room(f[f_room], c)).empty()
          && (e = take_uint(f[f_seq], f_seq, c.seq, c.has_seq)).empty() && !c.has_seq)
        e = "missing field 'seq'";
      return e;
    case op::send:
      if ((e = take_room(f[f_room], c)).empty()
          && (e = take_string(f[f_text], f_text, c.text)).empty()
          && (e = take_cid(f[f_cid], c)).empty())
        e = take_ack(f[f_ack], c);
      return e;
    case op::history: {
      uint64_t limit = 50;
      if ((e = take_room(f[f_room], c)).empty()
          && (e = take_uint(f[f_before], f_before, c.seq, c.has_seq)).empty()
          && (e = take_uint(f[f_limit], f_limit, limit, present)).empty() && limit == 0)
        e = "field 'limit' must be at least 1";
      c.limit = uint32_t(std::min<uint64_t>(limit, max_history));
      return e;
    }
    case op::presence:
      if (f[f_users].k != kind::array)
        return "field 'users' must be an array of strings";
      if (!h.users_problem.empty())
        return h.users_problem;
      c.users = std::move(h.users);
      return {};
    case op::auth: // in-band refresh: the new access token
      if ((e = take_string(f[f_token], f_token, c.text)).empty()
          && (c.text.empty() || c.text.size() > auth::token_key::max_token_bytes))
        e = "field 'token' must be 1.." + std::to_string(auth::token_key::max_token_bytes)
            + " bytes";
      return e;
    case op::ping:
    case op::invalid:
      return {};
  }
  return {};
}

const std::pair<std::string_view, op> op_names[] = {
  {"join", op::join}, {"leave", op::leave}, {"send", op::send}, {"history", op::history},
  {"typing", op::typing}, {"read", op::read}, {"presence", op::presence}, {"ping", op::ping},
  {"auth", op::auth}};

// The command for op `name` from the recorded fields (the frame's own `op` and `rid` are
// not read here).
command decode_op(std::string_view name, top_level_fields& h, std::string rid) {
  command c;
  for (auto& [n, k] : op_names)
    if (c.kind == op::invalid && name == n)
      c.kind = k;
  if (c.kind == op::invalid)
    return invalid("unknown op '" + std::string(utf8_truncated(name, 64)) + "'", std::move(rid));
  c.rid = std::move(rid);
  if (auto e = take_fields(h, c); !e.empty())
    return invalid(std::move(e), std::move(c.rid));
  return c;
}

// Runs RapidJSON's SAX reader over `text` into `h`; `consumed` is where it stopped (short
// of the end at a NUL byte). The reader's stack (strings being unescaped, one level marker
// per nesting level) lives in a per-thread buffer for small frames and spills into the heap
// for larger ones. Not kParseValidateEncodingFlag: the handlers check every string after
// unescaping, which covers raw bytes too, and the flag's byte-wise check made decoding
// 20-50% slower.
template <class Handler>
rapidjson::ParseResult sax_parse(std::string_view text, Handler& h, size_t& consumed) {
  thread_local char stack_buffer[4096];
  rapidjson::MemoryPoolAllocator<> stack(stack_buffer, sizeof(stack_buffer));
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>>
    reader(&stack, 1024);
  rapidjson::MemoryStream in(text.data(), text.size());
  auto result = reader.Parse<rapidjson::kParseDefaultFlags>(in, h);
  consumed = in.Tell();
  return result;
}

} // namespace

command decode_native(std::string_view payload) {
  top_level_fields h;
  size_t consumed = 0;
  auto result = sax_parse(payload, h, consumed);
  std::string rid = h.fields[f_rid].k == kind::absent ? std::string() : rid_json(h.fields[f_rid]);
  if (result.Code() == rapidjson::kParseErrorTermination)
    return invalid(h.err, rid);
  if (result.Code() == rapidjson::kParseErrorStringUnicodeSurrogateInvalid)
    return invalid(h.where() + " is not valid Unicode (an unpaired surrogate escape at offset "
                     + std::to_string(result.Offset()) + ")",
                   rid);
  if (result.IsError())
    return invalid(std::string("malformed JSON: ") + rapidjson::GetParseError_En(result.Code())
                     + " at offset " + std::to_string(result.Offset()),
                   rid);
  if (consumed != payload.size()) // a NUL byte ends the reader's input early
    return invalid("malformed JSON: a NUL byte outside a string at offset "
                     + std::to_string(consumed),
                   rid);
  if (!h.object_seen)
    return invalid("a frame must be a JSON object");
  if (h.fields[f_rid].k != kind::absent && rid.empty())
    return invalid("field 'rid' must be a string of at most " + std::to_string(max_rid_bytes)
                   + " bytes or a number");
  auto& o = h.fields[f_op];
  if (o.k != kind::string)
    return invalid(o.k == kind::absent ? "missing field 'op'" : "field 'op' must be a string", rid);
  return decode_op(o.str, h, std::move(rid));
}

namespace {

// SAX handler for Socket.IO event arguments of the plain shape ["<name>"] or
// ["<name>", {fields}]: the name is kept, the object's events go to top_level_fields as if
// it were a native frame. Anything else stops the parse (the caller then takes its general
// path, which reports what is wrong).
class event_args {
public:
  event_args(size_t max_depth) : max_depth_(max_depth) {}

  top_level_fields fields;
  std::string name;
  size_t count = 0; // elements of the array

  bool Null() { return inner() && fields.Null(); }
  bool Bool(bool b) { return inner() && fields.Bool(b); }
  bool Int(int v) { return inner() && fields.Int(v); }
  bool Uint(unsigned v) { return inner() && fields.Uint(v); }
  bool Int64(int64_t v) { return inner() && fields.Int64(v); }
  bool Uint64(uint64_t v) { return inner() && fields.Uint64(v); }
  bool Double(double v) { return inner() && fields.Double(v); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    if (depth_ == 1 && count == 0) {
      count = 1;
      name.assign(s, n);
      return utf8_valid(name);
    }
    return inner() && fields.String(s, n, copy);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    return depth_ >= 2 && fields.Key(s, n, copy);
  }
  bool StartObject() {
    if (depth_ == 1 && count == 1)
      ++count;
    else if (!inner())
      return false;
    return ++depth_ <= max_depth_ && fields.StartObject();
  }
  bool StartArray() {
    if (depth_ == 0)
      return ++depth_ <= max_depth_;
    return inner() && ++depth_ <= max_depth_ && fields.StartArray();
  }
  bool EndObject(rapidjson::SizeType n) { return --depth_ >= 1 && fields.EndObject(n); }
  bool EndArray(rapidjson::SizeType n) { return --depth_ == 0 || fields.EndArray(n); }

private:
  // A value inside the fields object (a value at depth 1 besides the name and the object is
  // not this shape).
  bool inner() const { return depth_ >= 2; }

  size_t max_depth_;
  size_t depth_ = 0;
};

} // namespace

std::optional<command> decode_event_args(std::string_view json, std::string& rid, size_t max_depth,
                                         bool (*name_refused)(std::string_view)) {
  event_args h(max_depth);
  size_t consumed = 0;
  auto result = sax_parse(json, h, consumed);
  if (result.IsError() || consumed != json.size() || h.count == 0 || name_refused(h.name))
    return std::nullopt;
  return decode_op(h.name, h.fields, std::move(rid));
}

command decode_command(std::string_view name, const rapidjson::Value& fields, std::string rid) {
  // The same handler walks the parsed object, so every protocol gets the same checks.
  top_level_fields h;
  if (!fields.IsObject())
    return invalid("the fields of an op must be a JSON object", std::move(rid));
  h.StartObject();
  for (auto& m : fields.GetObject())
    if (!h.Key(m.name.GetString(), m.name.GetStringLength(), true) || !m.value.Accept(h))
      return invalid(h.err, std::move(rid));
  return decode_op(name, h, std::move(rid));
}

} // namespace chat::net
