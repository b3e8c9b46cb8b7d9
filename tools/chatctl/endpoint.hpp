// The admin endpoint address given as HOST:PORT on the command line.
#pragma once

#include <cstdint>
#include <string>

namespace chat::chatctl {

struct endpoint {
  std::string host;
  uint16_t port = 0;

  // "host:port" as the user wrote it (IPv6 hosts in brackets).
  std::string text() const;
};

// Parses "HOST:PORT", "[V6]:PORT"; returns an error message, empty on success.
std::string parse_endpoint(const std::string& text, endpoint& out);

} // namespace chat::chatctl
