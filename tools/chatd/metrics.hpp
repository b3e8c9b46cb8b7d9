// Renders the node's statistics in the Prometheus text exposition format (/metrics).
#pragma once

#include <string>

namespace chat::net {
struct origin_counters;
}

namespace chat::tools {

class admin_snapshot;

// `refused`: the admin endpoint's refusals of browser requests.
std::string render_metrics(admin_snapshot& snap, const net::origin_counters& refused);

} // namespace chat::tools
