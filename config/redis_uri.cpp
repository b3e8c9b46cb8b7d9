// Strict parsing of redis:// and redis+cluster:// URIs (see redis_uri.hpp).
#include "config/redis_uri.hpp"

namespace chat::config {

namespace {

constexpr size_t max_hosts = 64;

// 0..15, or -1 when `c` is not a hex digit.
int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool percent_decode(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0)
      return false;
    out += char(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool parse_port(const std::string& s, uint16_t& port) {
  if (s.empty() || s.size() > 5)
    return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + uint32_t(c - '0');
  }
  if (v == 0 || v > 65535)
    return false;
  port = uint16_t(v);
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
         || c == '-' || c == '_';
}

// "host", "host:port", "[v6]", "[v6]:port"
std::string parse_host(const std::string& s, redis_endpoint& ep) {
  std::string rest;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close == 1)
      return "bad IPv6 host '" + s + "'";
    ep.host = s.substr(1, close - 1);
    for (char c : ep.host)
      if (hex_value(c) < 0 && c != ':' && c != '.')
        return "bad IPv6 host '" + s + "'";
    rest = s.substr(close + 1);
    if (!rest.empty() && rest[0] != ':')
      return "unexpected '" + rest + "' after host";
  } else {
    auto colon = s.find(':');
    ep.host = s.substr(0, colon);
    rest = colon == std::string::npos ? "" : s.substr(colon);
    if (ep.host.empty())
      return "missing host";
    for (char c : ep.host)
      if (!host_char(c))
        return "bad host '" + ep.host + "'";
  }
  ep.port = 6379;
  if (!rest.empty() && !parse_port(rest.substr(1), ep.port))
    return "bad port '" + rest.substr(1) + "'";
  return {};
}

} // namespace

std::string parse_redis_uri(const std::string& text, redis_uri& out) {
  static const std::string plain = "redis://", cluster = "redis+cluster://";
  redis_uri uri;
  std::string rest;
  if (text.rfind(cluster, 0) == 0) {
    uri.cluster = true;
    rest = text.substr(cluster.size());
  } else if (text.rfind(plain, 0) == 0) {
    rest = text.substr(plain.size());
  } else {
    return "expected redis://host:port or redis+cluster://host:port,...";
  }
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    auto auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = auth.find(':');
    if (colon == std::string::npos)
      return "credentials must be [user]:password@";
    if (!percent_decode(auth.substr(0, colon), uri.user)
        || !percent_decode(auth.substr(colon + 1), uri.password))
      return "bad %-escape in the credentials";
    if (uri.password.empty())
      return "empty password";
  }
  auto slash = rest.find('/');
  if (slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      if (uri.cluster)
        return "a cluster has no databases (drop '/" + db + "')";
      if (db.size() > 5 || db.find_first_not_of("0123456789") != std::string::npos)
        return "bad database '" + db + "'";
      uri.db = uint32_t(std::stoul(db));
    }
  }
  size_t start = 0;
  while (true) {
    auto comma = rest.find(',', start);
    redis_endpoint ep;
    auto err = parse_host(rest.substr(start, comma == std::string::npos ? std::string::npos
                                                                        : comma - start),
                          ep);
    if (!err.empty())
      return err;
    uri.hosts.push_back(ep);
    if (uri.hosts.size() > max_hosts)
      return "more than " + std::to_string(max_hosts) + " hosts";
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  out = std::move(uri);
  return {};
}

} // namespace chat::config
