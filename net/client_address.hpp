// Who the client is, address-wise: the TCP peer, or — when the peer is one of the
// configured trusted proxies (net.trusted-proxies) — the address the proxies put into
// X-Forwarded-For. The header is read from the right (the entry the nearest proxy added)
// and the first address that is not itself a trusted proxy is the client; anything a
// client could have written further left is never believed. Per-address limits, login
// throttles and the access log use this address.
#pragma once

#include "net/http_types.hpp"

#include <boost/asio/ip/address.hpp>

#include <string>
#include <utility>
#include <vector>

namespace chat::net {

class trusted_proxies {
public:
  trusted_proxies() = default;
  // Addresses or CIDR prefixes ("10.0.0.0/8", "::1"); throws std::invalid_argument.
  explicit trusted_proxies(const std::vector<std::string>& specs);

  bool empty() const { return nets_.empty(); }
  bool contains(const boost::asio::ip::address& a) const;
  // The client's address (text, without port) for a request that came from `peer`.
  std::string client_of(const boost::asio::ip::address& peer, const http_request& req) const;

private:
  std::vector<std::pair<boost::asio::ip::address, unsigned>> nets_; // address, prefix bits
};

// An IPv4-mapped IPv6 address as IPv4; others unchanged.
boost::asio::ip::address plain_address(const boost::asio::ip::address& a);

} // namespace chat::net
