// The native JSON protocol of PROTOCOL.md: decoding of client frames into commands and the
// encoder of server frames (whole WebSocket text frames, ready to write).
#pragma once

#include "actors/wire.hpp"
#include "net/object_encoder.hpp"

#include <rapidjson/fwd.h>

#include <optional>
#include <string_view>

namespace chat::net {

// Decodes one text frame (any bytes). Never throws: bad input yields an `invalid` command
// carrying the error to answer (and the frame's rid when it had a usable one). What it
// accepts is valid UTF-8 and follows the name rules and bounds of PROTOCOL.md.
// (native_decoder.cpp)
command decode_native(std::string_view payload);

// The `invalid` command (bad_request) carrying `message` as the error to answer.
command invalid_command(std::string message, std::string rid = {});

// The field validation of op `name` from an already-parsed JSON object, shared by every
// protocol's decoder (native, Socket.IO). `rid` goes into the command or its error.
command decode_command(std::string_view name, const rapidjson::Value& fields, std::string rid);

// Socket.IO event arguments of the plain shape ["<op>"] or ["<op>", {fields}], decoded
// without a document into the same command as decode_command. nullopt, with `rid` left
// as it was, when `json` is anything else (another shape, malformed, not valid Unicode,
// nested deeper than `max_depth`, or a name `name_refused` refuses): the caller's general
// path then decides. (native_decoder.cpp)
std::optional<command> decode_event_args(std::string_view json, std::string& rid, size_t max_depth,
                                         bool (*name_refused)(std::string_view));

// Encoder id 0: the objects of object_encoder.hpp, each with its "rid", one per text frame.
class native_encoder final : public object_encoder {
public:
  static const native_encoder& instance();
  int id() const override { return 0; }

protected:
  frame_ptr frame(const open_object& object, const std::string& rid) const override;
};

} // namespace chat::net
