// JSON helpers shared by the load generator's codecs: string escaping for hand-built
// frames, and a SAX decoder of the fields the load generator reads from a server object.
#pragma once

#include "protocol_codec.hpp"

#include <rapidjson/reader.h>

#include <string>
#include <string_view>

namespace chat::loadgen {

// Appends `s` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

// Appends the fields of a send op: "room":..,"text":..,"cid":..,"ack":.. (no braces).
void append_send_fields(std::string& out, std::string_view room, std::string_view text,
                        std::string_view cid, ack_mode ack);

// Per-thread parse state (its buffers are reused).
struct json_fields {
  std::string scratch;
  rapidjson::Reader reader;
};

// Fills `ev` from the members of the object at `fields_depth` of `json` (1: `json` is the
// object); `invalid` when it does not parse. Views in `ev` point into f.scratch.
void parse_fields(json_fields& f, std::string_view json, int fields_depth, event& ev);

} // namespace chat::loadgen
