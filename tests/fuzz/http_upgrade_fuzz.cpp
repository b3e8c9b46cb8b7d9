// Fuzz target: arbitrary bytes as they reach a listener, and as a request target alone. Beast's request parser with the
// node's default limits reads up to a few pipelined requests; each then goes through the
// target decoding and route decision of the client listener, the native endpoint's upgrade
// decision (under each policy), the Socket.IO endpoint's Engine.IO query checks, request
// handling and CORS answers, and the admin endpoint's browser checks. Whatever the
// bytes, nothing may crash, every answer must be one of the statuses these steps document,
// and every answer must be well-formed (JSON error bodies, a complete 101 answer).
#include "http_limits_default.hpp"

#include "net/allowed_origins.hpp"
#include "net/engineio_server.hpp"
#include "net/http_parse.hpp"
#include "net/origin_policy.hpp"
#include "net/upgrade.hpp"
#include "net/unicode.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

using namespace chat::net;

namespace {

void require(bool ok) {
  if (!ok)
    std::abort();
}

void check_refusal(const http_reply& r, const std::set<int>& allowed) {
  require(allowed.count(r.status) == 1);
  require(r.content_type == "application/json");
  require(utf8_valid(r.body));
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  require(!d.HasParseError() && d.IsObject() && d.HasMember("error") && d["error"].IsString());
  for (auto& [name, value] : r.headers)
    require(name.find_first_of("\r\n:") == std::string::npos
            && value.find_first_of("\r\n") == std::string::npos);
}

void check_upgrade(const native_ws_decision& d) {
  if (!d.upgrade.accepted) {
    check_refusal(d.upgrade.refusal, {400, 401, 405, 426, 503});
    return;
  }
  const std::string_view head = "HTTP/1.1 101 Switching Protocols\r\n";
  const std::string_view accept = "Sec-WebSocket-Accept: ";
  const auto& r = d.upgrade.response;
  require(r.compare(0, head.size(), head) == 0);
  auto at = r.find(accept);
  require(at != std::string::npos);
  require(r.size() == at + accept.size() + 28 + 4); // 20 bytes of SHA-1 in base64, CRLFCRLF
  require(r.compare(r.size() - 4, 4, "\r\n\r\n") == 0);
  require(d.user.empty() || valid_user_name(d.user));
}

const route_table& client_routes() {
  static const route_table routes = [] {
    route_table t;
    auto unused = [](http_exchange&) {};
    for (const char* prefix : {"/ws", "/healthz", "/socket.io/", "/api/"})
      t.add(prefix, unused);
    return t;
  }();
  return routes;
}

// CORS fields: only for the listed origin, never a CR or LF.
void check_cors(const http_reply& r) {
  for (auto& [name, value] : r.headers) {
    require(name.find_first_of("\r\n:") == std::string::npos
            && value.find_first_of("\r\n") == std::string::npos);
    if (name == "Access-Control-Allow-Origin")
      require(boost::beast::iequals(value, "https://chat.example.com"));
  }
}

// What /socket.io/ does with a request before a session exists: the Engine.IO checks on a
// fresh endpoint (a GET may open a session: answered with its open packet), CORS.
void serve_engineio(const http_request& req, const url_target& target) {
  static const allowed_origins cors(std::vector<std::string>{"https://chat.example.com"});
  if (req.method() == http::verb::options) {
    auto r = cors.preflight(req, "GET, POST, OPTIONS");
    require(r.status == 204 || r.status == 403);
    check_cors(r);
    return;
  }
  auto origin = cors.cors_origin(req);
  // Listed origins compare case-insensitively; the request's spelling is echoed.
  require(origin.empty() || boost::beast::iequals(origin, "https://chat.example.com"));
  auto q = eio::read_query(target);
  eio::server endpoint(eio::limits{}, {});
  auto check_answer = [](const eio::http_answer& a) {
    require(a.status == 200 || a.status == 400 || a.status == 403 || a.status == 413
            || a.status == 503);
    require(utf8_valid(a.body));
  };
  if (boost::beast::websocket::is_upgrade(req)) {
    if (auto refusal = endpoint.check_websocket(q))
      check_answer(*refusal);
    return;
  }
  auto method = req.method_string();
  auto ct = req[http::field::content_type];
  eio::request r{std::string_view(method.data(), method.size()), std::move(q),
                 std::string_view(ct.data(), ct.size()), req.body()};
  auto result = endpoint.handle_http(r, [] {}, eio::clock::now());
  require(result.answer.has_value() || result.pending != nullptr);
  if (result.answer)
    check_answer(*result.answer);
  require(endpoint.size() <= 1);
}

void serve(const http_request& req) {
  url_target target;
  http_reply refusal;
  if (!route_request(client_routes(), req, target, refusal)) {
    check_refusal(refusal, {400, 404});
  } else if (target.path == "/ws") {
    for (bool anonymous : {true, false})
      for (bool accepting : {true, false})
        check_upgrade(decide_native_ws(req, target, native_ws_policy{anonymous, accepting}));
  } else if (target.path.rfind("/socket.io/", 0) == 0) {
    serve_engineio(req, target);
  }
  static const origin_policy admin({boost::asio::ip::make_address("127.0.0.1"), 9090}, "box");
  for (auto r : {admin.check_read(req), admin.check_write(req)})
    if (r != origin_refusal::none)
      check_refusal(origin_policy::refusal_reply(r), {403, 415});
}

} // namespace

// The whole input as a request target, in a buffer of exactly its size (Beast's targets
// sit inside its header storage, where reading past the end would go unnoticed).
void decode_as_target(std::string_view bytes) {
  std::string error;
  auto t = parse_target(bytes, error);
  require(t.has_value() == error.empty());
  if (!t)
    return;
  auto text_ok = [](const std::string& s) { return utf8_valid(s) && s.find('\0') == s.npos; };
  for (auto& seg : t->segments)
    require(text_ok(seg));
  for (auto& [k, v] : t->params)
    require(text_ok(k) && text_ok(v));
  find_single_param(*t, "user");
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& limits = default_http_limits();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  decode_as_target(bytes);
  for (int pipelined = 0; pipelined < 4 && !bytes.empty(); ++pipelined) {
    http_request req;
    size_t used = 0;
    auto ec = parse_request(bytes, limits, req, &used);
    if (ec == http::error::need_more)
      return 0; // the connection would wait for more, within net.http-timeout
    if (ec) {
      check_refusal(parse_error_reply(ec), {400, 413, 431});
      return 0; // answered, and the connection closes
    }
    require(used > 0 && used <= bytes.size());
    serve(req);
    bytes.remove_prefix(used);
  }
  return 0;
}
