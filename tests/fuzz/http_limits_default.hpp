// The HTTP bounds a client listener applies with the default settings
// (net.http-header-limit, net.http-body-limit), for the fuzz targets that parse requests.
#pragma once

#include "config/node_config.hpp"
#include "net/http_types.hpp"

inline const chat::net::http_limits& default_http_limits() {
  static const chat::net::http_limits limits = [] {
    chat::config::node_config defaults;
    chat::net::http_limits l;
    l.header_limit = defaults.http_header_limit;
    l.body_limit = defaults.http_body_limit;
    return l;
  }();
  return limits;
}
