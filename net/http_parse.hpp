// The request parser's bounds and what a parse failure is answered with, shared by the
// HTTP sessions, the fuzz target and the tests.
#pragma once

#include "net/boundary_counters.hpp"
#include "net/http_types.hpp"
#include "net/route_table.hpp"
#include "net/url_target.hpp"

#include <boost/beast/http/parser.hpp>

#include <string_view>

namespace chat::net {

using request_parser = http::request_parser<http::string_body>;

// Applies the header and body limits to a fresh parser.
void limit_parser(request_parser& p, const http_limits& limits);

// True when `ec` is the parser refusing the bytes (not the connection failing).
bool is_parse_error(const boost::system::error_code& ec);

// The answer to a request the parser refused (431, 413 or 400) and the counter it goes to.
http_reply parse_error_reply(const boost::system::error_code& ec);
http_error parse_error_kind(const boost::system::error_code& ec);

// Parses one complete request from `bytes` with `limits` (tests and fuzzing). Returns the
// parser's error, or http::error::need_more when `bytes` end before the request does.
boost::system::error_code parse_request(std::string_view bytes, const http_limits& limits,
                                        http_request& out, size_t* consumed = nullptr);

// Decodes the target of `req` and finds its route: the handler, or nullptr with `refusal`
// filled (400 for a malformed target, 404 when no route serves the path).
const route_handler* route_request(const route_table& routes, const http_request& req,
                                   url_target& target, http_reply& refusal);

} // namespace chat::net
