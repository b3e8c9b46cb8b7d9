// Cross-origin access to an HTTP endpoint that browsers use directly (Engine.IO
// long-polling): which origins may read its answers, the header fields that say so, and
// the answer to a CORS preflight. Without allowed origins the endpoint is same-origin only:
// answers carry no CORS fields, so browsers let only pages of the node's own origin read
// them.
#pragma once

#include "net/http_types.hpp"

#include <string>
#include <vector>

namespace chat::net {

struct cors_policy {
  // Exact origins ("https://chat.example.com"), or "*" for any.
  std::vector<std::string> allowed_origins;

  // The request's Origin when it may read answers: one Origin field, listed (or "*").
  // Empty otherwise, also for requests without an Origin (same-origin, tools).
  std::string allowed_origin(const http_request& req) const;
  // Adds the CORS fields for `origin` (from allowed_origin) to an answer; nothing when empty.
  static void add_fields(http_reply& reply, const std::string& origin);
  // The answer to an OPTIONS preflight: 204 with the fields for an allowed origin, 403
  // otherwise.
  http_reply preflight(const http_request& req) const;
};

} // namespace chat::net
