// One run of the load generator from connecting to the final summary.
#pragma once

#include "options.hpp"

namespace chat::loadgen {

// Connects, runs the load (or idle) phases, prints the results; returns the exit code.
// Throws std::runtime_error for problems found before connecting (e.g. an unknown host).
int run(const options& o);

} // namespace chat::loadgen
