// The native protocol's framing of the server objects (object_encoder.cpp writes them; the
// decoder is in native_decoder.cpp): every frame is valid UTF-8 whatever its inputs.
#include "net/native_codec.hpp"

namespace chat {

const char* to_string(error_code c) {
  switch (c) {
    case error_code::bad_request: return "bad_request";
    case error_code::unauthorized: return "unauthorized";
    case error_code::forbidden: return "forbidden";
    case error_code::not_member: return "not_member";
    case error_code::rate_limited: return "rate_limited";
    case error_code::too_large: return "too_large";
    case error_code::unavailable: return "unavailable";
    case error_code::internal: return "internal";
    case error_code::conflict: return "conflict";
  }
  return "internal";
}

} // namespace chat

namespace chat::net {

const native_encoder& native_encoder::instance() {
  static const native_encoder enc;
  return enc;
}

// The object with its "rid" (kept as the client sent it: raw JSON) and closing brace.
frame_ptr native_encoder::frame(const open_object& object, const std::string& rid) const {
  if (rid.empty())
    return text_frame({object.text, "}"});
  return text_frame({object.text, ",\"rid\":", valid_text(rid), "}"});
}

} // namespace chat::net
