// The Socket.IO driver (tests/sio/driver.mjs, the official socket.io-client under Node.js)
// run against a node by the end-to-end tests, and the check that every scenario passed.
#pragma once

#include "support/node_process.hpp"
#include "support/node_script.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace chat::test {

// Runs the driver (stdout and stderr together) with `args` and waits for it.
inline script_result run_sio_driver(uint16_t port, const std::string& args) {
  return run_script("cd '" + sio_dir() + "' && node driver.mjs --url http://127.0.0.1:"
                    + std::to_string(port) + " " + args + " 2>&1");
}

inline void require_sio_passed(const script_result& r, const node_process& node) {
  INFO(r.output);
  INFO("chatd stderr:\n" << node.stderr_text());
  REQUIRE(r.status == 0);
  REQUIRE(r.output.find("ok ") != std::string::npos);
  REQUIRE(r.output.find("FAIL") == std::string::npos);
}

} // namespace chat::test
