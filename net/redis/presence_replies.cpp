// Shape checks of the presence script's query answers (see presence_replies.hpp).
#include "net/redis/presence_replies.hpp"

#include <algorithm>

namespace chat::redis {

std::optional<std::vector<node_info>> parse_live_nodes(const response& resp) {
  if (!resp.ok() || !resp.value.is_array())
    return std::nullopt;
  std::vector<node_info> nodes;
  for (auto& e : resp.value.elements) {
    if (!e.is_array() || e.elements.size() != 4 || !e.elements[0].is_string())
      return std::nullopt;
    for (size_t i = 1; i < 4; ++i)
      if (e.elements[i].type != reply::kind::integer)
        return std::nullopt;
    nodes.push_back(node_info{e.elements[0].str, e.elements[1].integer,
                              uint64_t(std::max<int64_t>(0, e.elements[2].integer)),
                              uint64_t(std::max<int64_t>(0, e.elements[3].integer))});
  }
  return nodes;
}

std::optional<std::map<std::string, bool>> parse_online(const response& resp,
                                                        const std::vector<std::string>& users) {
  if (!resp.ok() || !resp.value.is_array() || resp.value.elements.size() != users.size())
    return std::nullopt;
  std::map<std::string, bool> out;
  for (size_t i = 0; i < users.size(); ++i)
    out[users[i]] = resp.value.elements[i].type == reply::kind::integer
                    && resp.value.elements[i].integer == 1;
  return out;
}

std::optional<std::map<std::string, uint64_t>> parse_node_users(const response& resp) {
  if (!resp.ok() || !resp.value.is_array() || resp.value.elements.size() % 2 != 0)
    return std::nullopt;
  std::map<std::string, uint64_t> out;
  auto& el = resp.value.elements;
  for (size_t i = 0; i + 1 < el.size(); i += 2) {
    uint64_t n = 0;
    if (!el[i].is_string() || !el[i + 1].is_string() || !parse_uint(el[i + 1].str, n))
      return std::nullopt;
    out[el[i].str] = n;
  }
  return out;
}

} // namespace chat::redis
