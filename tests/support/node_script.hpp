// Runs the Node.js drivers of tests/sio (the official socket.io-client) from end-to-end
// tests: a shell command's whole output, and the "skipped without node" rule.
#pragma once

#include <string>

namespace chat::test {

// tests/sio in the source tree.
std::string sio_dir();

struct script_result {
  int status = -1; // exit code, -1 when the command did not exit normally
  std::string output;
};
// Runs `cmd` with /bin/sh to completion and collects its stdout (add 2>&1 for stderr).
script_result run_script(const std::string& cmd);

// Exits 77 (CTest: skipped) when `node` is not on PATH, and 1 when tests/sio/node_modules
// is missing (scripts/setup.sh installs both).
void require_node_or_skip();

} // namespace chat::test
