// Accounts and tokens behind the HTTP API and the WebSocket upgrade: registration, login,
// refresh, logout, revocation, and the check of an access token presented at an upgrade.
// Nothing here blocks its caller: password hashing runs on the hashing pool (bounded,
// niced), store calls on the store thread (bounded), and answers come back through
// callbacks on those threads. Revocation is a per-user "tokens valid after" second in
// the account store, checked at every upgrade and refresh; `revoke_sink` then closes the
// user's open connections on this node (a Redis publish can later do the same on others).
#pragma once

#include "net/auth/login_throttle.hpp"
#include "net/auth/password_hash.hpp"
#include "net/auth/token.hpp"
#include "net/auth/work_pool.hpp"
#include "config/node_config.hpp"
#include "storage/account_store.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace chat::auth {

struct account_settings {
  std::chrono::seconds token_ttl{3600};          // security.token-ttl
  std::chrono::seconds refresh_ttl{30 * 86400};  // security.refresh-ttl
  pwhash_limits limits;                          // security.password-ops / -mem
  unsigned hash_threads = 1;                     // security.hash-threads
  size_t hash_queue = 64;                        // security.hash-queue
  int hash_nice = 10;                            // security.hash-nice
  size_t store_queue = 4096;                     // account store calls waiting
  std::chrono::milliseconds max_wait{5000};      // a job queued longer answers 503
  uint32_t failures_per_address = 20;            // security.login-failures-per-ip
  uint32_t failures_per_user = 5;                // security.login-failures-per-user
  std::chrono::milliseconds failure_window{60000}; // security.login-failure-window
  size_t throttle_keys = 100000;                 // entries per throttle table
};

// The [security] settings of the node, as the service takes them.
account_settings settings_from(const config::node_config& cfg);

// Reads a key file (security.token-key): hex digits; throws std::runtime_error with one
// line naming the file. A file others may read is accepted with a warning.
token_key load_token_key(const std::string& path);

// One answer of the account API, protocol-neutral (the HTTP route writes it).
struct api_outcome {
  int status = 200;            // 200, 201, or 400/401/409/429/503
  std::string error;           // the refusal's reason
  int64_t retry_after_s = 0;   // 429 and 503
  std::string user;
  std::string token;           // access token and its expiry (seconds since the epoch)
  int64_t expires_s = 0;
  std::string refresh_token;
  int64_t refresh_expires_s = 0;
  uint64_t closed = 0;         // revocations: connections closed on this node
};
using api_done = std::function<void(api_outcome)>;

// An access token presented at an upgrade, checked.
struct access_check {
  token_error error = token_error::none; // revoked included
  bool unavailable = false;              // the store could not be asked: answer 503
  token_claims claims;
};

// One line for the access log.
struct auth_event {
  std::string user, address, event, reason;
};

// Counters for /metrics (relaxed atomics).
enum class auth_count { registered, logins, login_failures, refreshes, revocations, throttled,
                        busy, store_errors };
constexpr std::array<const char*, 8> auth_count_names = {
  "registered", "logins", "login_failures", "refreshes", "revocations", "throttled", "busy",
  "store_errors"};
constexpr size_t token_error_count = size_t(token_error::revoked) + 1;

struct auth_counters {
  std::array<std::atomic<uint64_t>, auth_count_names.size()> events{};
  std::array<std::atomic<uint64_t>, token_error_count> token_refusals{}; // by token_error
  void count(auth_count c) { events[size_t(c)].fetch_add(1, std::memory_order_relaxed); }
};

class account_service {
public:
  using event_sink = std::function<void(auth_event)>;
  // Closes `user`'s connections admitted with tokens issued at or before `valid_after_s`;
  // returns how many.
  using revoke_sink = std::function<uint64_t(const std::string& user, int64_t valid_after_s)>;

  account_service(account_settings s, token_key key,
                  std::shared_ptr<storage::account_store> store, event_sink events,
                  revoke_sink revoked);
  ~account_service(); // lets queued jobs finish

  // Bodies are the raw JSON of the request (api_request.hpp); `address` is the client's.
  void register_account(std::string_view body, const std::string& address, api_done done);
  void login(std::string_view body, const std::string& address, api_done done);
  void refresh(std::string_view body, const std::string& address, api_done done);
  // Revokes the tokens of the user the access token names (`bearer`).
  void logout(std::string_view bearer, const std::string& address, api_done done);
  // Operator's revocation (admin endpoint); `by` goes to the access log.
  void revoke(const std::string& user, const std::string& by, api_done done);

  // Checks a token presented at an upgrade: shape, signature and times at once, then (on
  // the store thread) revocation. `done` runs on the calling thread when the token is
  // refused without the store, else on the store thread.
  void check_access(std::string_view token, const std::string& address,
                    std::function<void(access_check)> done);
  // A token presented in-band on an open connection: everything but the store.
  token_error verify_access(std::string_view token, token_claims& out) const;

  const auth_counters& counters() const { return counters_; }
  size_t hash_queued() const { return hash_pool_.queued(); }
  int64_t now_s() const;

private:
  struct issued {
    std::string token, refresh;
    int64_t expires_s = 0, refresh_expires_s = 0;
  };
  issued issue(const std::string& user, int64_t valid_after_s) const;
  api_outcome tokens_outcome(int status, const std::string& user, int64_t valid_after_s) const;
  void refuse_token(token_error e, const token_claims& c, const std::string& address);
  bool on_store(std::function<void(storage::account_store&)> job, const api_done& done);
  bool on_hash_pool(std::function<void()> job, const api_done& done);
  void log(std::string user, const std::string& address, const char* event,
           std::string reason = {});
  const std::string& dummy_hash();

  account_settings s_;
  token_key key_;
  std::shared_ptr<storage::account_store> store_;
  event_sink events_;
  revoke_sink revoked_;
  auth_counters counters_;
  login_throttle throttle_;
  std::string dummy_hash_; // hashing pool threads only
  std::mutex dummy_mtx_;
  // Last: their threads stop (finishing queued jobs) before the members above go.
  work_pool store_pool_;
  work_pool hash_pool_;
};

} // namespace chat::auth
