// Trusted proxies and X-Forwarded-For (see client_address.hpp).
#include "net/client_address.hpp"
#include "net/http_fields.hpp"

#include <algorithm>
#include <stdexcept>

namespace chat::net {

namespace ip = boost::asio::ip;

namespace {

// One X-Forwarded-For entry: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1" or "[2001:db8::1]:80".
bool parse_entry(std::string_view e, ip::address& out) {
  e = trim_ows(e);
  if (!e.empty() && e.front() == '[') {
    auto close = e.find(']');
    if (close == std::string_view::npos)
      return false;
    e = e.substr(1, close - 1);
  } else if (std::count(e.begin(), e.end(), ':') == 1) {
    e = e.substr(0, e.find(':'));
  }
  boost::system::error_code ec;
  out = ip::make_address(std::string(e), ec);
  return !ec;
}

bool in_net(const ip::address& a, const ip::address& net, unsigned bits) {
  if (a.is_v4() != net.is_v4())
    return false;
  auto match = [bits](const auto& x, const auto& y) {
    for (size_t i = 0; i < x.size(); ++i) {
      unsigned left = bits > i * 8 ? bits - unsigned(i * 8) : 0;
      if (left == 0)
        return true;
      unsigned mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
      if ((x[i] & mask) != (y[i] & mask))
        return false;
    }
    return true;
  };
  return a.is_v4() ? match(a.to_v4().to_bytes(), net.to_v4().to_bytes())
                   : match(a.to_v6().to_bytes(), net.to_v6().to_bytes());
}

} // namespace

ip::address plain_address(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

trusted_proxies::trusted_proxies(const std::vector<std::string>& specs) {
  for (const auto& s : specs) {
    auto slash = s.find('/');
    boost::system::error_code ec;
    auto a = plain_address(ip::make_address(s.substr(0, slash), ec));
    if (ec)
      throw std::invalid_argument("not an IP address: '" + s + "'");
    unsigned max = a.is_v4() ? 32 : 128;
    unsigned bits = max;
    if (slash != std::string::npos) {
      auto text = s.substr(slash + 1);
      if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos
          || std::stoul(text) > max)
        throw std::invalid_argument("bad prefix length: '" + s + "'");
      bits = unsigned(std::stoul(text));
    }
    nets_.emplace_back(a, bits);
  }
}

bool trusted_proxies::contains(const ip::address& a) const {
  auto p = plain_address(a);
  for (auto& [net, bits] : nets_)
    if (in_net(p, net, bits))
      return true;
  return false;
}

std::string trusted_proxies::client_of(const ip::address& peer, const http_request& req) const {
  auto client = plain_address(peer);
  if (!contains(client))
    return client.to_string();
  // Every X-Forwarded-For field, in order, as one list; then right to left.
  std::vector<std::string_view> entries;
  auto fields = req.equal_range("X-Forwarded-For");
  for (auto it = fields.first; it != fields.second; ++it) {
    std::string_view v(it->value().data(), it->value().size());
    size_t at = 0;
    for (;;) {
      auto comma = v.find(',', at);
      entries.push_back(v.substr(at, comma == std::string_view::npos ? std::string_view::npos
                                                                    : comma - at));
      if (comma == std::string_view::npos)
        break;
      at = comma + 1;
    }
  }
  for (auto e = entries.rbegin(); e != entries.rend(); ++e) {
    ip::address a;
    if (!parse_entry(*e, a))
      break; // garbage from here on: the last proxy's word is all we have
    client = plain_address(a);
    if (!contains(client))
      break;
  }
  return client.to_string();
}

} // namespace chat::net
