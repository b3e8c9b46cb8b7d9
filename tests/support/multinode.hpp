// Several chatd processes sharing one Redis and one SQLite storage directory, for the
// multi-node end-to-end tests, and a reader of a room's whole history.
#pragma once

#include "support/node_process.hpp"
#include "support/redis_server.hpp"
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

// The whole history of `room`, oldest first: (seq, text).
inline std::vector<std::pair<uint64_t, std::string>> history_of(ws_client& c,
                                                                const std::string& room) {
  std::vector<std::pair<uint64_t, std::string>> out;
  uint64_t before = 0;
  for (;;) {
    c.send(R"({"op":"history","room":")" + room + R"(","limit":500)"
           + (before ? ",\"before\":" + std::to_string(before) : std::string()) + "}");
    auto page = c.next_op("history");
    auto& msgs = page.at("messages");
    if (msgs.Size() == 0)
      break;
    std::vector<std::pair<uint64_t, std::string>> chunk;
    for (auto& m : msgs.GetArray())
      chunk.emplace_back(m["seq"].GetUint64(), m["text"].GetString());
    out.insert(out.begin(), chunk.begin(), chunk.end());
    before = chunk.front().first;
    if (before <= 1)
      break;
  }
  return out;
}

} // namespace chat::test
