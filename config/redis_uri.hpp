// Parses `redis.uri`: where the node's Redis (or Redis Cluster) is and how to log in.
//   redis://[[user]:password@]host[:port][/db]
//   redis+cluster://[[user]:password@]host[:port][,host[:port]...]   (seed nodes)
// Hosts may be names, IPv4 or bracketed IPv6 ([::1]:6379); the port defaults to 6379;
// user and password may use %XX escapes. Several hosts, or a db, are only valid where they
// make sense (several seeds for a cluster, a db for a single server).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chat::config {

struct redis_endpoint {
  std::string host;
  uint16_t port = 6379;
  bool operator==(const redis_endpoint& o) const { return host == o.host && port == o.port; }
};

struct redis_uri {
  bool cluster = false; // redis+cluster://
  std::vector<redis_endpoint> hosts;
  std::string user;     // empty: AUTH with the password alone (the default user)
  std::string password; // empty: no AUTH
  uint32_t db = 0;
};

// Returns "" and fills `out`, or one line saying what is wrong.
std::string parse_redis_uri(const std::string& text, redis_uri& out);

} // namespace chat::config
