// Accounts and tokens (see account_service.hpp). Every path that may block hops: the
// calling (network) thread parses and checks throttles, the store thread asks the store,
// the hashing pool hashes; each answers through `done` from where it finished.
#include "net/auth/account_service.hpp"

#include "net/auth/api_request.hpp"
#include "storage/message_store.hpp"

#include "config/log.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace chat::auth {

namespace {

using clock = std::chrono::steady_clock;

api_outcome refusal(int status, std::string error, int64_t retry_after_s = 0) {
  api_outcome o;
  o.status = status;
  o.error = std::move(error);
  o.retry_after_s = retry_after_s;
  return o;
}

api_outcome busy() {
  return refusal(503, "busy: too many account requests in progress, retry later", 1);
}

} // namespace

account_settings settings_from(const config::node_config& cfg) {
  using std::chrono::duration_cast;
  account_settings s;
  s.token_ttl = duration_cast<std::chrono::seconds>(cfg.token_ttl);
  s.refresh_ttl = duration_cast<std::chrono::seconds>(cfg.refresh_ttl);
  s.limits = {cfg.password_ops, cfg.password_mem};
  s.hash_threads = cfg.hash_threads;
  s.hash_queue = cfg.hash_queue;
  s.hash_nice = int(cfg.hash_nice);
  s.failures_per_address = cfg.login_failures_per_ip;
  s.failures_per_user = cfg.login_failures_per_user;
  s.failure_window = cfg.login_failure_window;
  return s;
}

token_key load_token_key(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error(path + ": cannot read (make one with: chatd --gen-token-key > "
                             + path + ")");
  std::stringstream text;
  text << in.rdbuf();
  std::string hex = text.str();
  try {
    auto key = token_key::from_hex(hex);
    sodium_memzero(hex.data(), hex.size());
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
      spdlog::warn("security.token-key: {} is readable by other users (chmod 600 it)", path);
    return key;
  } catch (const std::exception& e) {
    sodium_memzero(hex.data(), hex.size());
    throw std::runtime_error(path + ": " + e.what());
  }
}

account_service::account_service(account_settings s, token_key key,
                                 std::shared_ptr<storage::account_store> store,
                                 event_sink events, revoke_sink revoked)
  : s_(s),
    key_(std::move(key)),
    store_(std::move(store)),
    events_(std::move(events)),
    revoked_(std::move(revoked)),
    throttle_{failure_throttle(s.failures_per_address, s.failure_window, s.throttle_keys),
              failure_throttle(s.failures_per_user, s.failure_window, s.throttle_keys)},
    store_pool_("account store", 1, s.store_queue, 0),
    hash_pool_("password hashing", s.hash_threads, s.hash_queue, s.hash_nice) {}

account_service::~account_service() = default;

int64_t account_service::now_s() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

void account_service::log(std::string user, const std::string& address, const char* event,
                          std::string reason) {
  if (events_)
    events_({std::move(user), address, event, std::move(reason)});
}

account_service::issued account_service::issue(const std::string& user,
                                               int64_t valid_after_s) const {
  // A token issued in the second of a revocation would count as revoked: issue it a
  // second later (within the verifiers' clock-skew allowance).
  int64_t iat = std::max(now_s(), valid_after_s + 1);
  issued out;
  out.expires_s = iat + s_.token_ttl.count();
  out.refresh_expires_s = iat + s_.refresh_ttl.count();
  out.token = key_.sign({user, iat, out.expires_s, token_kind::access});
  out.refresh = key_.sign({user, iat, out.refresh_expires_s, token_kind::refresh});
  return out;
}

api_outcome account_service::tokens_outcome(int status, const std::string& user,
                                            int64_t valid_after_s) const {
  auto t = issue(user, valid_after_s);
  api_outcome o;
  o.status = status;
  o.user = user;
  o.token = std::move(t.token);
  o.expires_s = t.expires_s;
  o.refresh_token = std::move(t.refresh);
  o.refresh_expires_s = t.refresh_expires_s;
  return o;
}

bool account_service::on_store(std::function<void(storage::account_store&)> job,
                               const api_done& done) {
  bool queued = store_pool_.submit([this, job = std::move(job), done](clock::duration waited) {
    if (waited > s_.max_wait) {
      counters_.count(auth_count::busy);
      done(busy());
      return;
    }
    try {
      job(*store_);
    } catch (const std::exception& e) {
      counters_.count(auth_count::store_errors);
      done(refusal(503, std::string("account store unavailable: ") + e.what(), 1));
    }
  });
  if (!queued) {
    counters_.count(auth_count::busy);
    done(busy());
  }
  return queued;
}

bool account_service::on_hash_pool(std::function<void()> job, const api_done& done) {
  bool queued = hash_pool_.submit([this, job = std::move(job), done](clock::duration waited) {
    if (waited > s_.max_wait) {
      counters_.count(auth_count::busy);
      done(busy());
      return;
    }
    job();
  });
  if (!queued) {
    counters_.count(auth_count::busy);
    done(busy());
  }
  return queued;
}

const std::string& account_service::dummy_hash() {
  std::lock_guard<std::mutex> guard(dummy_mtx_);
  if (dummy_hash_.empty()) {
    unsigned char noise[16];
    randombytes_buf(noise, sizeof noise);
    dummy_hash_ = hash_password(std::string(reinterpret_cast<char*>(noise), sizeof noise),
                                s_.limits);
  }
  return dummy_hash_;
}

void account_service::register_account(std::string_view body, const std::string& address,
                                       api_done done) {
  credentials cred;
  auto err = parse_credentials(body, credentials_use::register_account, cred);
  if (!err.empty())
    return done(refusal(400, err));
  auto now = clock::now();
  if (auto wait = throttle_.by_address.wait_s(address, now)) {
    counters_.count(auth_count::throttled);
    return done(refusal(429, "too many attempts from this address, retry later", wait));
  }
  throttle_.by_address.count(address, now); // a registration costs a hash, like a failure
  auto user = cred.username;
  // Taken names are refused before the hash is paid for; create_account decides races.
  on_store(
    [this, cred = std::move(cred), address, done](storage::account_store& store) mutable {
      auto existing = store.find_account(cred.username);
      if (existing && !existing->password_hash.empty())
        return done(refusal(409, "username taken"));
      on_hash_pool(
        [this, cred = std::move(cred), address, done]() mutable {
          auto hash = hash_password(cred.password, s_.limits);
          sodium_memzero(cred.password.data(), cred.password.size());
          if (hash.empty())
            return done(refusal(503, "cannot hash passwords now (out of memory?)", 1));
          on_store(
            [this, user = cred.username, hash = std::move(hash), address,
             done](storage::account_store& store) {
              if (!store.create_account(user, hash, now_s() * 1000))
                return done(refusal(409, "username taken"));
              auto a = store.find_account(user);
              counters_.count(auth_count::registered);
              log(user, address, "register");
              done(tokens_outcome(201, user, a ? a->tokens_valid_after_s : 0));
            },
            done);
        },
        done);
    },
    done);
}

void account_service::login(std::string_view body, const std::string& address, api_done done) {
  credentials cred;
  auto err = parse_credentials(body, credentials_use::login, cred);
  if (!err.empty())
    return done(refusal(400, err));
  if (auto wait = throttle_.wait_s(address, cred.username, clock::now())) {
    counters_.count(auth_count::throttled);
    log(cred.username, address, "login_failed", "throttled");
    return done(refusal(429, "too many failed logins, retry later", wait));
  }
  on_store(
    [this, cred = std::move(cred), address, done](storage::account_store& store) mutable {
      auto found = store.find_account(cred.username);
      on_hash_pool(
        [this, cred = std::move(cred), found = std::move(found), address, done]() mutable {
          // A name without an account is checked against a dummy hash: the answer takes
          // as long as for a wrong password, so timing does not tell which names exist.
          bool known = found && !found->password_hash.empty();
          bool ok = verify_password(known ? found->password_hash : dummy_hash(), cred.password)
                    && known;
          sodium_memzero(cred.password.data(), cred.password.size());
          if (!ok) {
            auto now = clock::now();
            throttle_.by_address.count(address, now);
            throttle_.by_user.count(cred.username, now);
            counters_.count(auth_count::login_failures);
            log(cred.username, address, "login_failed",
                known ? "wrong password" : "no such account");
            return done(refusal(401, "wrong username or password"));
          }
          counters_.count(auth_count::logins);
          log(cred.username, address, "login");
          done(tokens_outcome(200, cred.username, found->tokens_valid_after_s));
        },
        done);
    },
    done);
}

void account_service::refresh(std::string_view body, const std::string& address,
                              api_done done) {
  std::string token;
  auto err = parse_refresh(body, token);
  if (!err.empty())
    return done(refusal(400, err));
  token_claims c;
  auto e = key_.verify(token, now_s(), token_kind::refresh, c);
  if (e != token_error::none) {
    refuse_token(e, c, address);
    return done(refusal(401, to_string(e)));
  }
  on_store(
    [this, c, address, done](storage::account_store& store) {
      auto a = store.find_account(c.user);
      int64_t valid_after = a ? a->tokens_valid_after_s : 0;
      if (c.issued_s <= valid_after) {
        refuse_token(token_error::revoked, c, address);
        return done(refusal(401, to_string(token_error::revoked)));
      }
      counters_.count(auth_count::refreshes);
      done(tokens_outcome(200, c.user, valid_after));
    },
    done);
}

void account_service::logout(std::string_view bearer, const std::string& address,
                             api_done done) {
  token_claims c;
  auto e = key_.verify(bearer, now_s(), token_kind::access, c);
  if (e != token_error::none) {
    refuse_token(e, c, address);
    return done(refusal(401, to_string(e)));
  }
  revoke(c.user, address, [this, user = c.user, address, done](api_outcome o) {
    if (o.status == 200)
      log(user, address, "logout");
    done(std::move(o));
  });
}

void account_service::revoke(const std::string& user, const std::string& by, api_done done) {
  on_store(
    [this, user, by, done](storage::account_store& store) {
      auto at = now_s();
      store.revoke_tokens(user, at);
      counters_.count(auth_count::revocations);
      api_outcome o;
      o.user = user;
      o.closed = revoked_ ? revoked_(user, at) : 0;
      log(user, by, "revoke", std::to_string(o.closed) + " connection(s) closed");
      done(std::move(o));
    },
    done);
}

void account_service::refuse_token(token_error e, const token_claims& c,
                                   const std::string& address) {
  counters_.token_refusals[size_t(e)].fetch_add(1, std::memory_order_relaxed);
  CHAT_LOG_LIMITED(spdlog::level::info, "auth: refused a token of '{}' from {}: {}", c.user,
                   address, to_string(e));
  log(c.user, address, "token_refused", to_string(e));
}

token_error account_service::verify_access(std::string_view token, token_claims& out) const {
  return key_.verify(token, now_s(), token_kind::access, out);
}

void account_service::check_access(std::string_view token, const std::string& address,
                                   std::function<void(access_check)> done) {
  access_check r;
  r.error = verify_access(token, r.claims);
  if (r.error != token_error::none) {
    refuse_token(r.error, r.claims, address);
    return done(std::move(r));
  }
  auto answer = [done](api_outcome) { // only refusals (busy, store failed) come here
    access_check u;
    u.unavailable = true;
    done(std::move(u));
  };
  on_store(
    [this, r, address, done](storage::account_store& store) mutable {
      auto a = store.find_account(r.claims.user);
      if (a && r.claims.issued_s <= a->tokens_valid_after_s) {
        r.error = token_error::revoked;
        refuse_token(r.error, r.claims, address);
      }
      done(std::move(r));
    },
    answer);
}

} // namespace chat::auth
