// JSON answers of the HTTP endpoints, always written by RapidJSON (so every string is
// escaped, never filtered): errors `{"error":"..."}` and objects built field by field.
#pragma once

#include "net/http_types.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

namespace chat::net {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

// An object answer: `fill` writes the members between `{` and `}`.
template <class Fill>
http_reply json_object_reply(int status, Fill&& fill) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  fill(w);
  w.EndObject();
  http_reply r;
  r.status = status;
  r.body.assign(buf.GetString(), buf.GetSize());
  return r;
}

// `{"error": message}` with `status`.
http_reply json_error(int status, std::string_view message);

// `{"status":"ok"}`: the liveness answer.
http_reply json_status_ok();

} // namespace chat::net
