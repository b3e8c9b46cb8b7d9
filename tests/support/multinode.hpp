// Several chatd processes sharing one Redis and one SQLite storage directory, for the
// multi-node end-to-end tests.
#pragma once

#include "support/node_process.hpp"
#include "support/redis_server.hpp"
#include "support/room_history.hpp"
#include "support/ws_client.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace chat::test {

struct node_group {
  std::string redis_uri;
  std::vector<std::string> extra;
  std::string data = make_temp_dir();
  std::vector<std::unique_ptr<node_process>> nodes;

  node_group(std::string uri, size_t n, std::vector<std::string> more = {})
    : redis_uri(std::move(uri)), extra(std::move(more)) {
    for (size_t i = 0; i < n; ++i)
      nodes.push_back(start(i));
  }
  std::unique_ptr<node_process> start(size_t i) const {
    std::vector<std::string> args{"--redis.uri=" + redis_uri, "--chat.node=n" + std::to_string(i)};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<node_process>(args, data);
  }
  uint16_t port(size_t i) const { return nodes[i]->port(); }
  uint16_t admin_port(size_t i) const { return nodes[i]->admin_port(); }
};

} // namespace chat::test
