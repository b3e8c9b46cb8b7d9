// The account API on the client listener, `POST /api/...` (HTTP, JSON bodies):
//   register {username, password}  -> 201 {user, token, expires, refresh_token, refresh_expires}
//   login    {username, password}  -> 200 (same fields)
//   refresh  {refresh_token}       -> 200 (same fields: a new pair)
//   logout   Authorization: Bearer -> 200 {user, revoked: true, closed}
// Refusals are {"error": "..."}: 400 bad input, 401 wrong password or bad token, 403 origin
// not allowed, 409 name taken, 415 not JSON, 429 throttled and 503 busy (both with
// Retry-After). Answers come from the hashing pool or the store thread, never from work
// on the network thread.
#pragma once

#include "net/route_table.hpp"

namespace chat::net {

class client_gate;

route_handler make_api_route(client_gate& gate);

} // namespace chat::net
