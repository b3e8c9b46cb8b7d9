// Socket.IO v5 packet codec. Payloads are parsed with RapidJSON in per-thread buffers,
// after a scan that bounds their nesting; every string must be valid UTF-8 (RapidJSON
// turns a lone low-surrogate escape into bytes that are not).
#include "net/socketio_packet.hpp"

#include "net/engineio_packet.hpp"
#include "net/unicode.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstddef>

namespace chat::net::sio {

namespace {

using pool = rapidjson::MemoryPoolAllocator<>;
using document = rapidjson::GenericDocument<rapidjson::UTF8<>, pool, pool>;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool binary_type(packet_type t) {
  return t == packet_type::binary_event || t == packet_type::binary_ack;
}

// Nesting depth of a JSON text, counted outside strings; stops past `max`.
size_t json_depth(std::string_view s, size_t max) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > max)
        return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool strings_valid(const rapidjson::Value& v) {
  if (v.IsString())
    return utf8_valid(std::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsArray()) {
    for (auto& e : v.GetArray())
      if (!strings_valid(e))
        return false;
  } else if (v.IsObject()) {
    for (auto& m : v.GetObject())
      if (!strings_valid(m.name) || !strings_valid(m.value))
        return false;
  }
  return true;
}

// Every {"_placeholder":true,...} object names an attachment below `count`.
bool placeholders_valid(const rapidjson::Value& v, size_t count) {
  if (v.IsArray()) {
    for (auto& e : v.GetArray())
      if (!placeholders_valid(e, count))
        return false;
  } else if (v.IsObject()) {
    auto ph = v.FindMember("_placeholder");
    if (ph != v.MemberEnd() && ph->value.IsTrue()) {
      auto num = v.FindMember("num");
      return num != v.MemberEnd() && num->value.IsUint64() && num->value.GetUint64() < count;
    }
    for (auto& m : v.GetObject())
      if (!placeholders_valid(m.value, count))
        return false;
  }
  return true;
}

const char* shape_error(packet_type t, const rapidjson::Value& v, bool present) {
  switch (t) {
    case packet_type::connect:
      return !present || v.IsObject() ? nullptr : "CONNECT payload must be an object";
    case packet_type::disconnect:
      return present ? "DISCONNECT has no payload" : nullptr;
    case packet_type::event:
    case packet_type::binary_event:
      if (!v.IsArray() || v.Empty() || !v[0].IsString())
        return "EVENT payload must be an array starting with the event name";
      return reserved_event(std::string_view(v[0].GetString(), v[0].GetStringLength()))
               ? "reserved event name"
               : nullptr;
    case packet_type::ack:
    case packet_type::binary_ack:
      return v.IsArray() ? nullptr : "ACK payload must be an array";
    case packet_type::connect_error:
      return v.IsObject() || v.IsString() ? nullptr
                                          : "CONNECT_ERROR payload must be an object or a string";
  }
  return "unknown packet type";
}

// Parses `json` and calls fn(const rapidjson::Value&) on it; returns "" or the error.
// Small payloads parse in per-thread buffers (a nested call falls back to the heap).
template <class Fn>
std::string with_json(std::string_view json, const limits& lim, Fn&& fn) {
  static const rapidjson::Value absent;
  if (json.empty()) {
    fn(absent);
    return {};
  }
  if (json_depth(json, lim.max_depth) > lim.max_depth)
    return "payload nested deeper than " + std::to_string(lim.max_depth);
  alignas(std::max_align_t) thread_local char value_buffer[16384]; // pool chunks hold pointers
  alignas(std::max_align_t) thread_local char parse_buffer[4096];
  thread_local bool buffers_in_use = false;
  bool mine = !buffers_in_use;
  pool values = mine ? pool(value_buffer, sizeof(value_buffer)) : pool();
  pool stack = mine ? pool(parse_buffer, sizeof(parse_buffer)) : pool();
  buffers_in_use = true;
  struct release {
    bool mine;
    ~release() {
      if (mine)
        buffers_in_use = false;
    }
  } guard{mine};
  document doc(&values, 1024, &stack);
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError())
    return std::string("malformed JSON payload: ") + rapidjson::GetParseError_En(doc.GetParseError());
  if (!strings_valid(doc))
    return "payload string is not valid UTF-8";
  fn(static_cast<const rapidjson::Value&>(doc));
  return {};
}

// The packet header up to the payload; "" or the error.
std::string parse_header(std::string_view text, const limits& lim, packet& p, size_t& expected) {
  if (text.empty() || text[0] < '0' || text[0] > '6')
    return "unknown packet type";
  p.type = packet_type(text[0] - '0');
  size_t i = 1, n = text.size();
  expected = 0;
  if (binary_type(p.type)) {
    size_t start = i;
    while (i < n && is_digit(text[i]) && i - start < 6)
      expected = expected * 10 + size_t(text[i++] - '0');
    if (i == start || i >= n || text[i] != '-')
      return "illegal attachments";
    if (expected > lim.max_attachments)
      return "more than " + std::to_string(lim.max_attachments) + " attachments";
    ++i;
  }
  if (i < n && text[i] == '/') {
    auto comma = text.find(',', i);
    auto end = comma == std::string_view::npos ? n : comma;
    if (end - i > lim.max_nsp_bytes)
      return "namespace longer than " + std::to_string(lim.max_nsp_bytes) + " bytes";
    p.nsp.assign(text.substr(i, end - i));
    i = comma == std::string_view::npos ? n : comma + 1;
  }
  if (i < n && is_digit(text[i])) {
    size_t start = i;
    uint64_t id = 0;
    while (i < n && is_digit(text[i]) && i - start < 16)
      id = id * 10 + uint64_t(text[i++] - '0');
    if ((i < n && is_digit(text[i])) || id > max_ack_id)
      return "ack id out of range";
    p.has_id = true;
    p.id = id;
  }
  p.data.assign(text.substr(i));
  return {};
}

} // namespace

bool reserved_event(std::string_view name) {
  static const char* const reserved[] = {"connect", "connect_error", "disconnect",
                                         "disconnecting", "newListener", "removeListener"};
  for (auto* r : reserved)
    if (name == r)
      return true;
  return false;
}

std::string encode(const packet& p) {
  std::string out(1, char('0' + int(p.type)));
  if (binary_type(p.type)) {
    out += std::to_string(p.attachments.size());
    out.push_back('-');
  }
  if (!p.nsp.empty() && p.nsp != "/") {
    out += p.nsp;
    out.push_back(',');
  }
  if (p.has_id)
    out += std::to_string(p.id);
  out += p.data;
  return out;
}

std::vector<frame_ptr> encode_frames(const packet& p) {
  std::vector<frame_ptr> out;
  out.reserve(1 + p.attachments.size());
  out.push_back(eio::make_frame(eio::packet_type::message, encode(p)));
  for (auto& a : p.attachments)
    out.push_back(eio::make_binary_frame(a));
  return out;
}

std::string decoder::feed(std::string_view data, bool binary, handler& h) {
  if (binary) {
    if (!pending_)
      return "binary data without a packet waiting for attachments";
    attachment_bytes_ += data.size();
    if (attachment_bytes_ > lim_.max_attachment_bytes)
      return "attachments larger than " + std::to_string(lim_.max_attachment_bytes) + " bytes";
    pending_->attachments.emplace_back(data);
    return pending_->attachments.size() == expected_ ? complete(h) : std::string();
  }
  if (pending_)
    return "text packet while attachments were expected";
  packet p;
  size_t expected = 0;
  if (auto err = parse_header(data, lim_, p, expected); !err.empty())
    return err;
  if (p.type == packet_type::event && h.on_event_text(p))
    return {};
  const char* shape = nullptr;
  bool deliver = !binary_type(p.type) || expected == 0;
  auto err = with_json(p.data, lim_, [&](const rapidjson::Value& v) {
    shape = shape_error(p.type, v, !p.data.empty());
    if (!shape && binary_type(p.type) && !placeholders_valid(v, expected))
      shape = "placeholder without its attachment";
    if (!shape && deliver)
      h.on_packet(p, v);
  });
  if (!err.empty())
    return err;
  if (shape)
    return shape;
  if (!deliver) {
    pending_ = std::move(p);
    expected_ = expected;
    attachment_bytes_ = 0;
  }
  return {};
}

std::string decoder::complete(handler& h) {
  packet p = std::move(*pending_);
  pending_.reset();
  return with_json(p.data, lim_, [&](const rapidjson::Value& v) { h.on_packet(p, v); });
}

} // namespace chat::net::sio
