// The node's browser policy (net.allowed-origins), one class for every client endpoint (the
// native /ws upgrade, the account API /api, Socket.IO's /socket.io/ polling, preflights and
// WebSocket): an exact allow-list of origins ("https://chat.example.com"; "*" allows any;
// "self", the default, the node's own origin: the Origin's host is the Host field, as for
// the web client the node serves). Requests without an Origin field come from programs, not
// web pages, and pass; a page of an origin not allowed gets 403 (an empty list allows no
// page at all). Listed cross-origin requests
// get the CORS fields (the origin echoed, never "*", with credentials allowed, as the
// Socket.IO client's withCredentials needs) and preflight answers.
#pragma once

#include "net/http_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace chat::net {

class allowed_origins {
public:
  allowed_origins() = default;
  explicit allowed_origins(std::vector<std::string> list);

  // True when the request has no Origin, or exactly one that is allowed.
  bool allows(const http_request& req) const;
  // The 403 answer for a request allows() refused.
  static http_reply refusal();
  // The request's Origin when a cross-origin page may read answers: one Origin field,
  // listed (or "*"). Empty otherwise, also without an Origin and for same-origin pages.
  std::string cors_origin(const http_request& req) const;
  // Adds the CORS fields for `origin` (from cors_origin) to an answer; nothing when empty.
  static void add_cors_fields(http_reply& reply, const std::string& origin);
  // The answer to an OPTIONS preflight: 204 with the fields and `methods` for a listed
  // origin (the asked headers echoed when they are a token list), 403 otherwise.
  http_reply preflight(const http_request& req, const std::string& methods) const;

private:
  bool listed(std::string_view origin) const;

  bool any_ = false;
  bool self_ = false;
  std::vector<std::string> list_;
};

} // namespace chat::net
