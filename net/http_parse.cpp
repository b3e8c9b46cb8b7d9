// Request parsing bounds and refusals (see http_parse.hpp).
#include "net/http_parse.hpp"

#include "net/json_reply.hpp"

#include <boost/asio/buffer.hpp>

namespace chat::net {

void limit_parser(request_parser& p, const http_limits& limits) {
  p.header_limit(limits.header_limit);
  p.body_limit(limits.body_limit);
}

bool is_parse_error(const boost::system::error_code& ec) {
  static const auto& http_category = make_error_code(http::error::need_more).category();
  return ec.category() == http_category;
}

http_error parse_error_kind(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit || ec == http::error::body_limit
      || ec == http::error::buffer_overflow)
    return http_error::too_large;
  return http_error::malformed;
}

http_reply parse_error_reply(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit)
    return json_error(431, "request header too large");
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
    return json_error(413, "request body too large");
  return json_error(400, "malformed HTTP request: " + ec.message());
}

boost::system::error_code parse_request(std::string_view bytes, const http_limits& limits,
                                        http_request& out, size_t* consumed) {
  request_parser p;
  limit_parser(p, limits);
  p.eager(true);
  boost::system::error_code ec;
  size_t used = 0;
  while (!p.is_done()) {
    auto n = p.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::need_more && n > 0 && used < bytes.size()) {
      ec = {};
      continue; // Beast took part of it; offer the rest
    }
    if (ec || n == 0)
      break; // refused, or it waits for bytes that did not come
  }
  if (!ec && !p.is_done())
    ec = http::error::need_more;
  if (consumed)
    *consumed = used;
  if (!ec)
    out = p.release();
  return ec;
}

const route_handler* route_request(const route_table& routes, const http_request& req,
                                   url_target& target, http_reply& refusal) {
  std::string error;
  auto parsed = parse_target(std::string_view(req.target().data(), req.target().size()), error);
  if (!parsed) {
    refusal = json_error(400, error);
    return nullptr;
  }
  target = std::move(*parsed);
  auto* handler = routes.find(target.path);
  if (!handler)
    refusal = json_error(404, "not found: " + target.path);
  return handler;
}

} // namespace chat::net
