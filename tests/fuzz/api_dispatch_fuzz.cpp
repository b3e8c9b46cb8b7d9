// Fuzz target: the account API's dispatch (net/api_dispatch), from the bytes a client sends
// to it. Beast's request parser with the node's default limits reads up to a few pipelined
// requests; each decoded target goes to decide_api under four origin policies (self, a
// list, "*", none) with the account service on and off. Every decision must be one the
// API documents: an op only for a POST of a known op from an allowed origin with accounts
// on, with its Bearer token (logout) or one JSON Content-Type; otherwise exactly one of
// the documented refusals, well-formed. An op's input then goes where the account service
// sends it first (the body parsers, the token check), as one request would.
#include "http_limits_default.hpp"

#include "net/api_dispatch.hpp"
#include "net/auth/api_request.hpp"
#include "net/auth/token.hpp"
#include "net/http_parse.hpp"
#include "net/origin_policy.hpp"
#include "net/unicode.hpp"

#include <boost/beast/core/string.hpp>
#include <rapidjson/document.h>
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace chat::net;

namespace {

void require(bool ok) {
  if (!ok)
    std::abort();
}

const char* op_name(api_op op) {
  switch (op) {
  case api_op::register_account: return "register";
  case api_op::login: return "login";
  case api_op::refresh: return "refresh";
  case api_op::logout: return "logout";
  case api_op::none: break;
  }
  return "";
}

void check_fields(const http_reply& r) {
  for (auto& [name, value] : r.headers)
    require(name.find_first_of("\r\n:") == std::string::npos
            && value.find_first_of("\r\n") == std::string::npos);
}

void check_refusal(const http_request& req, const api_decision& d) {
  check_fields(d.reply);
  if (d.reply.status == 204) { // a preflight granted: only for OPTIONS, with its own fields
    require(req.method() == http::verb::options && !d.cors);
    return;
  }
  require(d.reply.status == 401 || d.reply.status == 403 || d.reply.status == 404
          || d.reply.status == 405 || d.reply.status == 415);
  require(d.cors == (d.reply.status != 403));
  require(d.reply.content_type == "application/json" && utf8_valid(d.reply.body));
  rapidjson::Document doc;
  doc.Parse(d.reply.body.c_str(), d.reply.body.size());
  require(!doc.HasParseError() && doc.IsObject() && doc.HasMember("error")
          && doc["error"].IsString());
  require(d.bearer.empty());
}

void check_op(const http_request& req, const url_target& target, const allowed_origins& origins,
              bool accounts_on, const api_decision& d) {
  require(accounts_on && req.method() == http::verb::post && origins.allows(req));
  require(target.segments.size() == 2 && target.segments[1] == op_name(d.op));
  if (d.op == api_op::logout) {
    require(req.count(http::field::authorization) == 1 && !d.bearer.empty()
            && d.bearer.front() != ' ');
    auto field = req[http::field::authorization];
    require(std::string_view(field.data(), field.size()).substr(field.size() - d.bearer.size())
            == d.bearer);
    return;
  }
  require(d.bearer.empty() && req.count(http::field::content_type) == 1);
  auto ct = req[http::field::content_type];
  require(is_json_media_type(std::string_view(ct.data(), ct.size())));
}

// What the account service does first with a dispatched request.
void follow(const http_request& req, const api_decision& d) {
  using namespace chat::auth;
  static const auto key = token_key::from_hex(std::string(64, 'a'));
  if (d.op == api_op::logout) {
    token_claims c;
    key.verify(d.bearer, 1700000000, token_kind::access, c);
  } else if (d.op == api_op::refresh) {
    std::string token;
    require(!parse_refresh(req.body(), token).empty() || !token.empty());
  } else {
    credentials c;
    auto use = d.op == api_op::login ? credentials_use::login : credentials_use::register_account;
    require(!parse_credentials(req.body(), use, c).empty() || !c.username.empty());
  }
}

void serve(const http_request& req) {
  std::string error;
  auto target = parse_target(std::string_view(req.target().data(), req.target().size()), error);
  if (!target)
    return; // refused before any route (the http_upgrade target's part)
  static const allowed_origins policies[] = {
    allowed_origins({"self"}), allowed_origins({"https://chat.example.com"}),
    allowed_origins({"*"}), allowed_origins()};
  for (auto& origins : policies) {
    api_decision with_accounts;
    for (bool accounts_on : {true, false}) {
      auto d = decide_api(req, *target, origins, accounts_on);
      if (d.op == api_op::none)
        check_refusal(req, d);
      else
        check_op(req, *target, origins, accounts_on, d);
      if (accounts_on) {
        if (d.op != api_op::none)
          follow(req, d);
        with_accounts = std::move(d);
        continue;
      }
      // Accounts off changes only what would have reached the op's own checks: to 404.
      bool op_checks = with_accounts.op != api_op::none || with_accounts.reply.status == 401
                       || with_accounts.reply.status == 415;
      require(op_checks ? d.reply.status == 404
                        : d.reply.status == with_accounts.reply.status
                            && d.reply.body == with_accounts.reply.body);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool sodium_ready = sodium_init() >= 0;
  const auto& limits = default_http_limits();
  require(sodium_ready);
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int pipelined = 0; pipelined < 4 && !bytes.empty(); ++pipelined) {
    http_request req;
    size_t used = 0;
    if (parse_request(bytes, limits, req, &used))
      return 0; // waiting for more, or refused by the parser (http_upgrade checks those)
    require(used > 0 && used <= bytes.size());
    serve(req);
    bytes.remove_prefix(used);
  }
  return 0;
}
