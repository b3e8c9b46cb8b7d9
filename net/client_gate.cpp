// Identity and admission at the client listener (see client_gate.hpp).
#include "net/client_gate.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "config/log.hpp"
#include "net/http_session.hpp"
#include "net/json_reply.hpp"

#include <boost/asio/post.hpp>

namespace chat::net {

namespace {

// In-band refresh of one connection's token: same user, a valid access token, not revoked.
class ticket_refresher final : public token_refresher {
public:
  ticket_refresher(auth::account_service& accounts, std::shared_ptr<admission::ticket> ticket,
                   std::shared_ptr<admission> admit, std::string user)
    : accounts_(accounts), ticket_(std::move(ticket)), admit_(std::move(admit)),
      user_(std::move(user)) {}

  std::string refresh(const std::string& token, int64_t& expires_s) override {
    auth::token_claims c;
    auto e = accounts_.verify_access(token, c);
    if (e != auth::token_error::none)
      return auth::to_string(e);
    if (c.user != user_)
      return "the token names another user";
    if (!admit_->reissue(*ticket_, c.issued_s))
      return auth::to_string(auth::token_error::revoked);
    expires_s = c.expires_s;
    return {};
  }

private:
  auth::account_service& accounts_;
  std::shared_ptr<admission::ticket> ticket_;
  std::shared_ptr<admission> admit_;
  std::string user_;
};

} // namespace

client_gate::client_gate(node_context& ctx, std::shared_ptr<admission> admit)
  : ctx_(ctx),
    origins_(ctx.cfg.allowed_origins),
    proxies_(ctx.cfg.trusted_proxies),
    admit_(std::move(admit)) {}

void client_gate::set_accounts(std::unique_ptr<auth::account_service> accounts) {
  accounts_ = std::move(accounts);
}

std::string client_gate::client_address(const http_exchange& ex) const {
  auto peer = ex.peer_address();
  return peer ? proxies_.client_of(*peer, ex.request()) : std::string("unknown");
}

void client_gate::log(const auth::auth_event& e) const {
  if (ctx_.persistence)
    ctx_.persistence->log_access({e.user, ctx_.cfg.node, e.address, e.event, e.reason, now_ms()});
}

void client_gate::settle(const http_exchange& ex, const std::string& token,
                         const std::string& anon_user, settled done) {
  // Back to the connection's own thread, whichever thread answered.
  auto post = [&io = ex.worker().context()](std::function<void()> f) {
    asio::post(io, std::move(f));
  };
  settle(client_address(ex), post, token, anon_user, std::move(done));
}

void client_gate::settle(std::string address, poster post, const std::string& token,
                         const std::string& anon_user, settled done) {
  if (token.empty()) {
    admit_on_thread(anon_user, {}, true, address, done);
    return;
  }
  if (!accounts_) {
    done(nullptr, json_error(401, "tokens are not accepted here (the node has no "
                                  "security.token-key)"));
    return;
  }
  accounts_->check_access(token, address, [this, post, address, done](auth::access_check c) {
    post([this, address, done, c = std::move(c)] {
      admit_on_thread(c.claims.user, c, false, address, done);
    });
  });
}

void client_gate::admit_on_thread(std::string user, const auth::access_check& c,
                                  bool anonymous, const std::string& address,
                                  const settled& done) {
  if (!anonymous) {
    if (c.unavailable)
      return done(nullptr, json_error(503, "cannot check tokens now (account store busy or "
                                           "unavailable), retry later"));
    if (c.error != auth::token_error::none)
      return done(nullptr, json_error(401, auth::to_string(c.error)));
  }
  admit_refusal why;
  auto ticket = admit_->admit(user, address, anonymous ? 0 : c.claims.issued_s, why);
  if (!ticket) {
    log({user, address, "connect_refused", to_string(why)});
    return done(nullptr, json_error(why == admit_refusal::revoked ? 401 : 429, to_string(why)));
  }
  auto who = std::make_shared<admitted>();
  who->user = std::move(user);
  who->ticket = std::move(ticket);
  if (!anonymous) {
    who->token_expires_s = c.claims.expires_s;
    who->refresher = std::make_shared<ticket_refresher>(*accounts_, who->ticket, admit_, who->user);
  }
  done(std::move(who), {});
}

void client_gate::attach(admitted& who, connection_info& info, outbound_ptr out) {
  info.user = who.user;
  info.token_expires_s = who.token_expires_s;
  info.refresher = who.refresher;
  info.user_rate = who.ticket->rate();
  admit_->attach(*who.ticket, std::move(out));
}

} // namespace chat::net
