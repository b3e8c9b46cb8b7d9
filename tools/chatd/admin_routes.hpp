// The admin listener's routes (/healthz, /readyz, ...), served on the admin port.
#pragma once

#include "net/server.hpp"

namespace chat::tools {

net::admin_handler make_admin_routes(node_context& ctx, net::server& srv);

} // namespace chat::tools
