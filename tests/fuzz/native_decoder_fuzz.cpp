// Fuzz target: the native protocol's frame decoder, on arbitrary bytes. Whatever it is
// given it must answer a command without throwing; an error carries bad_request and a
// message; what it accepts is valid Unicode within the documented bounds, agrees with an
// independent parse of the same JSON, and encodes back into valid UTF-8 frames.
#include "net/field_rules.hpp"
#include "net/native_codec.hpp"
#include "net/unicode.hpp"

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

using namespace chat;
using namespace chat::net;

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// The payload of an encoded server frame parses as JSON with strict UTF-8 checking.
void require_valid_frame(const frame_ptr& f) {
  require(f && f->size() >= 2, "a frame has a header");
  size_t len = uint8_t((*f)[1]) & 0x7f, header = len == 126 ? 4 : len == 127 ? 10 : 2;
  require(f->size() > header, "a frame has a payload");
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(f->data() + header, f->size() - header);
  require(!d.HasParseError() && d.IsObject(), "an encoded frame is valid UTF-8 JSON");
}

bool same_string(const rapidjson::Value& doc, const char* key, const std::string& s) {
  auto i = doc.FindMember(key);
  return i != doc.MemberEnd() && i->value.IsString()
         && std::string(i->value.GetString(), i->value.GetStringLength()) == s;
}

void check_accepted(const command& c, const uint8_t* data, size_t size) {
  for (auto* s : {&c.room, &c.text, &c.cid, &c.rid})
    require(utf8_valid(*s), "decoded strings are valid UTF-8");
  if (!c.rid.empty()) {
    rapidjson::Document rid;
    rid.Parse(c.rid.data(), c.rid.size());
    bool number_or_short_string =
      rid.IsNumber() || (rid.IsString() && rid.GetStringLength() <= max_rid_bytes);
    require(!rid.HasParseError() && number_or_short_string,
            "a rid is a number or a string of at most 128 bytes, as JSON");
  }
  bool has_room = c.kind != op::ping && c.kind != op::presence;
  if (has_room)
    require(room_name_problem(c.room).empty(), "room names follow the rules");
  if (c.kind == op::send)
    require(printable_problem(c.cid, max_cid_bytes).empty(), "cids follow the rules");
  if (c.kind == op::history)
    require(c.limit >= 1 && c.limit <= 500, "history limits are 1..500");
  require(c.users.size() <= max_presence_users, "presence lists are bounded");
  for (auto& u : c.users)
    require(utf8_valid(u) && printable_problem(u, max_user_bytes).empty(),
            "user names follow the rules");

  // An independent parse (a DOM, recursive: safe here because the decoder accepted at
  // most max_json_depth levels) agrees on every field the decoder kept.
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(reinterpret_cast<const char*>(data), size);
  require(!d.HasParseError() && d.IsObject(), "accepted frames are JSON objects");
  if (has_room)
    require(same_string(d, "room", c.room), "room agrees with a DOM parse");
  if (c.kind == op::send) {
    require(same_string(d, "text", c.text), "text agrees with a DOM parse");
    bool integer_cid = d["cid"].IsUint64() && std::to_string(d["cid"].GetUint64()) == c.cid;
    require(same_string(d, "cid", c.cid) || integer_cid, "cid agrees with a DOM parse");
  }
  if (c.kind == op::presence) {
    auto& users = d["users"];
    require(users.IsArray() && users.Size() == c.users.size(), "users agree with a DOM parse");
    for (rapidjson::SizeType i = 0; i < users.Size(); ++i)
      require(std::string(users[i].GetString(), users[i].GetStringLength()) == c.users[i],
              "users agree with a DOM parse");
  }

  auto& enc = native_encoder::instance();
  chat_message m{c.room, c.seq, "u", c.cid, c.text, 0};
  require_valid_frame(enc.msg(m));
  require_valid_frame(enc.ack(c.room, c.cid, c.seq, 0, c.rid));
  std::map<std::string, bool> online;
  for (auto& u : c.users)
    online[u] = true;
  require_valid_frame(enc.presence_reply(online, c.rid));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  command c;
  try {
    c = decode_native(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (...) {
    require(false, "the decoder never throws");
  }
  if (c.kind == op::invalid) {
    require(c.err == error_code::bad_request, "decoder errors are bad_request");
    require(!c.err_message.empty(), "errors carry a message");
    require(utf8_valid(c.err_message) && utf8_valid(c.rid), "errors are valid UTF-8");
    require_valid_frame(native_encoder::instance().error(c.err, c.err_message, c.rid));
    return 0;
  }
  check_accepted(c, data, size);
  return 0;
}
