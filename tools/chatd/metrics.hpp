// Renders the node's statistics in the Prometheus text exposition format (/metrics).
#pragma once

#include <string>

namespace chat::tools {

class admin_snapshot;

std::string render_metrics(admin_snapshot& snap);

} // namespace chat::tools
