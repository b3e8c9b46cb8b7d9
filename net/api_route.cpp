// /api/: the request's decision (api_dispatch.hpp), then the account service and its
// answer as JSON (see api_route.hpp).
#include "net/api_route.hpp"

#include "net/api_dispatch.hpp"
#include "net/client_gate.hpp"
#include "net/http_session.hpp"
#include "net/json_reply.hpp"

namespace chat::net {

namespace {

http_reply outcome_reply(const auth::api_outcome& o, bool revocation) {
  http_reply r;
  if (!o.error.empty()) {
    r = json_error(o.status, o.error);
  } else if (revocation) {
    r = json_object_reply(o.status, [&](json_writer& w) {
      w.Key("user");
      w.String(o.user);
      w.Key("revoked");
      w.Bool(true);
      w.Key("closed");
      w.Uint64(o.closed);
    });
  } else {
    r = json_object_reply(o.status, [&](json_writer& w) {
      w.Key("user");
      w.String(o.user);
      w.Key("token");
      w.String(o.token);
      w.Key("expires");
      w.Int64(o.expires_s);
      w.Key("refresh_token");
      w.String(o.refresh_token);
      w.Key("refresh_expires");
      w.Int64(o.refresh_expires_s);
    });
  }
  if (o.retry_after_s > 0)
    r.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

} // namespace

route_handler make_api_route(client_gate& gate) {
  return [&gate](http_exchange& ex) {
    const auto& req = ex.request();
    auto d = decide_api(req, ex.target(), gate.origins(), gate.accounts() != nullptr);
    http_reply cors; // the CORS fields for a listed origin, taken now on this thread
    allowed_origins::add_cors_fields(cors, gate.origins().cors_origin(req));
    auto answer = [ex, cors = std::move(cors.headers)](http_reply r) {
      r.headers.insert(r.headers.end(), cors.begin(), cors.end());
      ex.respond(std::move(r));
    };
    if (d.op == api_op::none)
      return d.cors ? answer(std::move(d.reply)) : ex.respond(std::move(d.reply));
    auto* accounts = gate.accounts();
    auto address = gate.client_address(ex);
    bool revocation = d.op == api_op::logout;
    auto done = [answer, revocation](auth::api_outcome o) {
      answer(outcome_reply(o, revocation));
    };
    const auto& body = req.body();
    switch (d.op) {
    case api_op::logout: return accounts->logout(d.bearer, address, done);
    case api_op::register_account: return accounts->register_account(body, address, done);
    case api_op::login: return accounts->login(body, address, done);
    case api_op::refresh: return accounts->refresh(body, address, done);
    case api_op::none: break;
    }
  };
}

} // namespace chat::net
