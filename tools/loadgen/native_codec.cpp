// The native JSON protocol: frames built by hand (no DOM) and received frames decoded with
// RapidJSON's SAX reader in situ, keeping only the top-level fields the load generator uses.
// The JSON helpers serve the Socket.IO codec too (json_fields.hpp).
#include "json_fields.hpp"
#include "protocol_codec.hpp"

namespace chat::loadgen {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void append_send_fields(std::string& out, std::string_view room, std::string_view text,
                        std::string_view cid, ack_mode ack) {
  out.append(R"("room":)");
  append_json_string(out, room);
  out.append(R"(,"text":)");
  append_json_string(out, text);
  out.append(R"(,"cid":)");
  append_json_string(out, cid);
  out.append(R"(,"ack":)");
  append_json_string(out, to_string(ack));
}

namespace {

enum class field { none, op, room, seq, text, cid, code, message };

field field_of(std::string_view key) {
  if (key == "op") return field::op;
  if (key == "room") return field::room;
  if (key == "seq") return field::seq;
  if (key == "text") return field::text;
  if (key == "cid") return field::cid;
  if (key == "code") return field::code;
  if (key == "message") return field::message;
  return field::none;
}

event::kind kind_of(std::string_view op) {
  if (op == "msg") return event::kind::msg;
  if (op == "ack") return event::kind::ack;
  if (op == "joined") return event::kind::joined;
  if (op == "error") return event::kind::error;
  return event::kind::other;
}

// SAX handler filling an event from the members of the object at `fields_depth` (1: the
// frame is the object; 2: the object is an element of the frame's array).
struct frame_handler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, frame_handler> {
  event& ev;
  int fields_depth;
  int depth = 0;
  field pending = field::none;

  frame_handler(event& e, int fd) : ev(e), fields_depth(fd) {}

  bool Default() {
    pending = field::none;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    pending = depth == fields_depth ? field_of({s, n}) : field::none;
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    const std::string_view value{s, n};
    switch (pending) {
    case field::op: ev.type = kind_of(value); break;
    case field::room: ev.room = value; break;
    case field::text: ev.text = value; break;
    case field::cid: ev.cid = value; break;
    case field::code: ev.code = value; break;
    case field::message: ev.message = value; break;
    default: break;
    }
    pending = field::none;
    return true;
  }
  bool Uint64(uint64_t value) {
    if (pending == field::seq) {
      ev.seq = value;
      ev.has_seq = true;
    }
    pending = field::none;
    return true;
  }
  bool Uint(unsigned value) { return Uint64(value); }
  bool StartObject() {
    ++depth;
    pending = field::none;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth;
    return true;
  }
  bool StartArray() {
    ++depth;
    pending = field::none;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

class native_codec final : public protocol_codec {
public:
  std::string target(std::string_view user) const override {
    // User names of the load generator are u<digits>, nothing to escape.
    std::string t = "/ws?user=";
    t.append(user);
    return t;
  }

  void encode_join(std::string& out, std::string_view room) override {
    out.assign(R"({"op":"join","room":)");
    append_json_string(out, room);
    out.push_back('}');
  }

  void encode_send(std::string& out, std::string_view room, std::string_view text,
                   std::string_view cid, ack_mode ack) override {
    out.assign(R"({"op":"send",)");
    append_send_fields(out, room, text, cid, ack);
    out.push_back('}');
  }

  event parse(std::string_view frame) override {
    event ev;
    parse_fields(fields_, frame, 1, ev);
    return ev;
  }

private:
  json_fields fields_;
};

} // namespace

void parse_fields(json_fields& f, std::string_view json, int fields_depth, event& ev) {
  f.scratch.assign(json); // in-situ parsing needs a writable, NUL-terminated copy
  frame_handler handler{ev, fields_depth};
  rapidjson::InsituStringStream stream{f.scratch.data()};
  constexpr unsigned flags = rapidjson::kParseInsituFlag | rapidjson::kParseStopWhenDoneFlag;
  if (f.reader.Parse<flags>(stream, handler).IsError()) {
    ev = event{};
    ev.type = event::kind::invalid;
  }
}

std::unique_ptr<protocol_codec> make_native_codec() { return std::make_unique<native_codec>(); }

} // namespace chat::loadgen
