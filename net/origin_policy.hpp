// Keeps web pages away from an HTTP endpoint meant for tools (the admin listener). A page
// the operator opens can make the browser send requests to it: "simple" cross-origin POSTs
// (text/plain, forms) are sent without asking, and a DNS-rebound name reaches a loopback
// port. So: reads refuse requests a browser marks as coming from another origin; writes
// also need `Content-Type: application/json`, which a page can only send cross-origin
// after a CORS preflight this endpoint never grants; and on loopback the Host must be a
// loopback name. Tools (chatctl, curl, Prometheus) send no Origin and pass.
#pragma once

#include "net/http_types.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <atomic>
#include <string>
#include <string_view>

namespace chat::net {

enum class origin_refusal { none, foreign_host, cross_origin, not_json };
constexpr std::array<const char*, 3> origin_refusal_names = {"foreign_host", "cross_origin",
                                                             "not_json"};

struct origin_counters {
  std::array<std::atomic<uint64_t>, origin_refusal_names.size()> refused{};
  void count(origin_refusal r) {
    if (r != origin_refusal::none)
      refused[size_t(r) - 1].fetch_add(1, std::memory_order_relaxed);
  }
};

class origin_policy {
public:
  // `bound`: the listener's address and port; `host_name`: this machine's name.
  origin_policy(boost::asio::ip::tcp::endpoint bound, std::string host_name);

  // A read of data (GET): foreign_host or cross_origin, or none.
  origin_refusal check_read(const http_request& req) const;
  // A state change: as a read, and the body must be declared JSON.
  origin_refusal check_write(const http_request& req) const;

  // The answer to a refusal: 403 (host, origin) or 415 (content type).
  static http_reply refusal_reply(origin_refusal r);

private:
  bool own_origin(std::string_view origin, std::string_view host_field) const;
  bool own_host(std::string_view host_field) const;

  boost::asio::ip::tcp::endpoint bound_;
  std::string host_name_;
};

// True for `application/json`, with or without parameters (`; charset=utf-8`).
bool is_json_media_type(std::string_view content_type);

} // namespace chat::net
