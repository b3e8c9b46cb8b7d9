// Node.js drivers for end-to-end tests (see node_script.hpp).
#include "support/node_script.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sys/wait.h>

namespace chat::test {

std::string sio_dir() { return std::string(CHAT_SOURCE_DIR) + "/tests/sio"; }

script_result run_script(const std::string& cmd) {
  script_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.output = "popen failed: " + cmd;
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void require_node_or_skip() {
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    std::cout << "SKIPPED: no `node` on PATH (scripts/setup.sh installs nodejs and npm)\n";
    std::exit(77);
  }
  if (!std::filesystem::exists(sio_dir() + "/node_modules/socket.io-client")) {
    std::cerr << "tests/sio/node_modules is missing: run scripts/setup.sh (npm ci)\n";
    std::exit(1);
  }
}

} // namespace chat::test
