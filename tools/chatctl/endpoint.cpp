// Parsing and printing of HOST:PORT admin addresses.
#include "endpoint.hpp"

#include <cctype>

namespace chat::chatctl {

std::string endpoint::text() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string parse_endpoint(const std::string& text, endpoint& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return "expected HOST:PORT, got '" + text + "'";
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return "expected [IPV6]:PORT, got '" + text + "'";
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return "write IPv6 addresses in brackets: [" + host + "]:" + port;
  }
  unsigned long value = 0;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || value > 65535)
      return "port must be a number in 1..65535, got '" + port + "'";
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value == 0 || value > 65535)
    return "port must be a number in 1..65535, got '" + port + "'";
  out.host = host;
  out.port = static_cast<uint16_t>(value);
  return {};
}

} // namespace chat::chatctl
