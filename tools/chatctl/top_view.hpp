// `chatctl top`: a full-screen ncurses view of the node, refreshed every interval until
// 'q' (or Ctrl-C); keeps running and shows the error while the node cannot be reached.
#pragma once

#include "admin_api.hpp"

#include <chrono>

namespace chat::chatctl {

// Runs the view on the terminal; throws chatctl_error when there is no terminal.
void run_top(admin_api& api, std::chrono::milliseconds interval);

} // namespace chat::chatctl
