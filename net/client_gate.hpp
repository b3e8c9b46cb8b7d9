// What the client listener's routes share to decide who gets in: the browser origin
// policy, the trusted proxies (for the client's address), the account service (tokens;
// null when the node has no security.token-key) and admission (per-user and per-address
// limits, the user's shared rate, revocation). The native endpoint uses it; a Socket.IO
// endpoint uses the same calls for its handshake's `auth.token`.
#pragma once

#include "actors/connection_actor.hpp"
#include "net/admission.hpp"
#include "net/allowed_origins.hpp"
#include "net/auth/account_service.hpp"
#include "net/client_address.hpp"

#include <functional>
#include <memory>
#include <string>

namespace chat {
struct node_context;
}

namespace chat::net {

class http_exchange;

// An identity the upgrade settled on, with its place on the node.
struct admitted {
  std::string user;
  int64_t token_expires_s = 0; // 0: anonymous
  std::shared_ptr<admission::ticket> ticket;
  std::shared_ptr<token_refresher> refresher; // null: anonymous
};

class client_gate {
public:
  client_gate(node_context& ctx, std::shared_ptr<admission> admit);

  // Tokens and accounts (before the listener starts); without it tokens are refused.
  void set_accounts(std::unique_ptr<auth::account_service> accounts);
  auth::account_service* accounts() const { return accounts_.get(); }
  const allowed_origins& origins() const { return origins_; }
  admission& admit() const { return *admit_; }

  // The client's address for this request (see client_address.hpp).
  std::string client_address(const http_exchange& ex) const;

  // Settles who connects: a token is verified (signature, times, then revocation on the
  // store thread), an anonymous name taken as given; then admission. `done` runs on the
  // request's network thread with the identity, or with the refusal to answer.
  using settled = std::function<void(std::shared_ptr<admitted> who, http_reply refusal)>;
  void settle(const http_exchange& ex, const std::string& token, const std::string& anon_user,
              settled done);
  // The same for a client known by its address (a Socket.IO CONNECT): `post` runs the
  // admission step on the caller's choice of thread (it may run it at once).
  using poster = std::function<void(std::function<void()>)>;
  void settle(std::string address, poster post, const std::string& token,
              const std::string& anon_user, settled done);

  // Fills the identity fields of a connection about to start, and lets revocation reach it.
  void attach(admitted& who, connection_info& info, outbound_ptr out);

  // Writes one access-log line (login, token refusals, revocations, ...).
  void log(const auth::auth_event& e) const;

private:
  void admit_on_thread(std::string user, const auth::access_check& c, bool anonymous,
                       const std::string& address, const settled& done);

  node_context& ctx_;
  allowed_origins origins_;
  trusted_proxies proxies_;
  std::shared_ptr<admission> admit_;
  std::unique_ptr<auth::account_service> accounts_;
};

} // namespace chat::net
