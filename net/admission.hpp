// Who may hold a WebSocket connection on this node, and how much: connections per user
// (chat.max-connections-per-user) and per client address (net.max-connections-per-ip),
// the rate limit all of a user's connections share (chat.user-rate-limit), and
// revocation. A connection is admitted once, at its upgrade, and gets a ticket: the
// user's shared rate bucket is looked up then, never on the message path, and the
// ticket gives its places back when the session ends. A revocation closes every open
// connection of the user whose token was issued at or before the revocation's second,
// including ones admitted but not yet started, and its mark is remembered (for
// `mark_ttl`) so an upgrade that checked the store just before it cannot slip through.
#pragma once

#include "actors/shared_rate.hpp"
#include "actors/wire.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chat::net {

struct admission_limits {
  uint32_t per_user = 100;
  uint32_t per_address = 1000;
  double user_rate = 2000;
  double user_burst = 4000;
  std::chrono::seconds mark_ttl{3600}; // how long a revocation mark is remembered
};

enum class admit_refusal { none, revoked, too_many_for_user, too_many_for_address };
// The one-line reason (HTTP status: 401 for revoked, 429 for the others).
const char* to_string(admit_refusal r);
constexpr size_t admit_refusal_count = size_t(admit_refusal::too_many_for_address) + 1;

// Held by shared_ptr (make_shared): tickets keep it alive until they are given back.
class admission : public std::enable_shared_from_this<admission> {
  struct user_entry;
  struct connection;

public:
  // One admitted connection; destroying it (or release()) gives its places back.
  class ticket {
  public:
    ~ticket();
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    const std::shared_ptr<shared_rate>& rate() const { return rate_; }
    void release();

  private:
    friend class admission;
    ticket() = default;
    std::shared_ptr<admission> owner_;
    std::shared_ptr<shared_rate> rate_;
    std::string user_, address_;
    std::list<connection>::iterator conn_;
    bool held_ = false;
  };

  explicit admission(admission_limits limits);

  // Admits a connection of `user` from `address` with a token issued at `iat_s` (0 for an
  // anonymous connection); nullptr with `why` set when refused.
  std::shared_ptr<ticket> admit(const std::string& user, const std::string& address,
                                int64_t iat_s, admit_refusal& why);
  // The connection's session started: a revocation closes it through `out` from now on
  // (at once when one came in between).
  void attach(ticket& t, outbound_ptr out);
  // The connection refreshed its token in-band; false when that token is revoked.
  bool reissue(ticket& t, int64_t iat_s);
  // Revokes `user`'s tokens issued at or before `valid_after_s`: closes those connections
  // (close code 4002) and returns how many.
  uint64_t revoke(const std::string& user, int64_t valid_after_s);
  bool revoked(const std::string& user, int64_t iat_s) const;

  size_t users() const;
  size_t addresses() const;

  // Refused admissions by admit_refusal, for /metrics.
  std::array<std::atomic<uint64_t>, admit_refusal_count> refusals{};

private:
  struct connection {
    int64_t iat_s = 0;
    std::weak_ptr<outbound> out;
    bool revoked = false;
  };
  struct user_entry {
    uint32_t count = 0;
    std::shared_ptr<shared_rate> rate;
    std::list<connection> conns;
  };
  struct mark {
    int64_t valid_after_s = 0;
    std::chrono::steady_clock::time_point at;
  };
  void give_back(ticket& t);
  bool revoked_locked(const std::string& user, int64_t iat_s) const;
  void prune_marks(std::chrono::steady_clock::time_point now);

  admission_limits limits_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, user_entry> users_;
  std::unordered_map<std::string, uint32_t> addresses_;
  std::unordered_map<std::string, mark> marks_;
  std::chrono::steady_clock::time_point next_prune_;
};

} // namespace chat::net
