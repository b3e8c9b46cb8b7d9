// Reading a room's whole history through the protocol, paging backwards with `before`.
#pragma once

#include "support/ws_client.hpp"

#include <string>
#include <utility>
#include <vector>

namespace chat::test {

// The whole history of `room`, oldest first, paging backwards with `before`.
inline std::vector<frame> full_history(ws_client& c, const std::string& room,
                                       std::vector<std::pair<uint64_t, std::string>>& out) {
  std::vector<frame> pages;
  uint64_t before = 0;
  out.clear();
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
    pages.push_back(page);
    if (before <= 1)
      break;
  }
  return pages;
}

// The same, without the pages.
inline std::vector<std::pair<uint64_t, std::string>> history_of(ws_client& c,
                                                                const std::string& room) {
  std::vector<std::pair<uint64_t, std::string>> out;
  full_history(c, room, out);
  return out;
}

} // namespace chat::test
