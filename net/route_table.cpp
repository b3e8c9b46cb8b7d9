// Prefix routing (see route_table.hpp).
#include "net/route_table.hpp"

#include <stdexcept>

namespace chat::net {

void route_table::add(std::string prefix, route_handler handler) {
  if (prefix.empty() || prefix.front() != '/')
    throw std::invalid_argument("route prefix must start with '/': '" + prefix + "'");
  routes_[std::move(prefix)] = std::move(handler);
}

std::string_view route_table::match(std::string_view path) const {
  std::string_view best;
  for (auto& [prefix, handler] : routes_) {
    bool under = prefix.back() == '/' && path.substr(0, prefix.size()) == prefix;
    if ((under || path == prefix) && prefix.size() > best.size())
      best = prefix;
  }
  return best;
}

const route_handler* route_table::find(std::string_view path) const {
  auto prefix = match(path);
  if (prefix.empty())
    return nullptr;
  return &routes_.find(prefix)->second;
}

} // namespace chat::net
