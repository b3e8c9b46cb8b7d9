// The presence script's answers to the queries (presence.hpp: live_nodes, online,
// node_users), each checked for its shape before use: a value, or nullopt when Redis failed
// or answered something else. No I/O; exposed for tests/fuzz/redis_handlers_fuzz.cpp.
#pragma once

#include "net/redis/request.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chat::redis {

struct node_info {
  std::string name;
  int64_t expires_in_ms = 0;
  uint64_t users = 0;       // users with at least one connection there
  uint64_t connections = 0;
};

// "nodes": an array of [name, expires in ms, users, connections] (negative counts read 0).
std::optional<std::vector<node_info>> parse_live_nodes(const response& resp);
// "online": one element per asked user, in order; a user is online when its element is the
// integer 1 (a name asked twice takes its last answer).
std::optional<std::map<std::string, bool>> parse_online(const response& resp,
                                                        const std::vector<std::string>& users);
// "users": a flat array of user, connections (decimal) pairs.
std::optional<std::map<std::string, uint64_t>> parse_node_users(const response& resp);

} // namespace chat::redis
