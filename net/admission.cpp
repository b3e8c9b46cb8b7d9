// Per-user and per-address admission, shared user rate, revocation (see admission.hpp).
#include "net/admission.hpp"

#include <vector>

namespace chat::net {

const char* to_string(admit_refusal r) {
  switch (r) {
    case admit_refusal::none: return "admitted";
    case admit_refusal::revoked: return "token revoked";
    case admit_refusal::too_many_for_user:
      return "too many connections for this user (chat.max-connections-per-user)";
    case admit_refusal::too_many_for_address:
      return "too many connections from this address (net.max-connections-per-ip)";
  }
  return "refused";
}

admission::ticket::~ticket() {
  release();
}

void admission::ticket::release() {
  if (held_ && owner_)
    owner_->give_back(*this);
  owner_.reset();
}

admission::admission(admission_limits limits) : limits_(limits) {}

std::shared_ptr<admission::ticket> admission::admit(const std::string& user,
                                                    const std::string& address, int64_t iat_s,
                                                    admit_refusal& why) {
  std::shared_ptr<ticket> t(new ticket());
  std::lock_guard<std::mutex> guard(mtx_);
  why = admit_refusal::none;
  if (revoked_locked(user, iat_s))
    why = admit_refusal::revoked;
  auto u = users_.find(user);
  if (why == admit_refusal::none && u != users_.end() && u->second.count >= limits_.per_user)
    why = admit_refusal::too_many_for_user;
  auto a = addresses_.find(address);
  if (why == admit_refusal::none && a != addresses_.end() && a->second >= limits_.per_address)
    why = admit_refusal::too_many_for_address;
  if (why != admit_refusal::none) {
    refusals[size_t(why)].fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (u == users_.end()) {
    u = users_.emplace(user, user_entry{}).first;
    u->second.rate = std::make_shared<shared_rate>(limits_.user_rate, limits_.user_burst);
  }
  ++u->second.count;
  ++addresses_[address];
  u->second.conns.push_back(connection{iat_s, {}, false});
  t->owner_ = shared_from_this();
  t->rate_ = u->second.rate;
  t->user_ = user;
  t->address_ = address;
  t->conn_ = std::prev(u->second.conns.end());
  t->held_ = true;
  return t;
}

void admission::give_back(ticket& t) {
  std::lock_guard<std::mutex> guard(mtx_);
  t.held_ = false;
  auto u = users_.find(t.user_);
  if (u != users_.end()) {
    u->second.conns.erase(t.conn_);
    if (--u->second.count == 0)
      users_.erase(u);
  }
  auto a = addresses_.find(t.address_);
  if (a != addresses_.end() && --a->second == 0)
    addresses_.erase(a);
}

void admission::attach(ticket& t, outbound_ptr out) {
  bool revoked = false;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (!t.held_)
      return;
    t.conn_->out = out;
    revoked = t.conn_->revoked;
  }
  if (revoked)
    out->close(4002, "token revoked");
}

bool admission::reissue(ticket& t, int64_t iat_s) {
  std::lock_guard<std::mutex> guard(mtx_);
  if (!t.held_ || revoked_locked(t.user_, iat_s))
    return false;
  t.conn_->iat_s = iat_s;
  return true;
}

uint64_t admission::revoke(const std::string& user, int64_t valid_after_s) {
  std::vector<outbound_ptr> to_close;
  uint64_t closed = 0;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    auto now = std::chrono::steady_clock::now();
    prune_marks(now);
    auto& m = marks_[user];
    m.valid_after_s = std::max(m.valid_after_s, valid_after_s);
    m.at = now;
    auto u = users_.find(user);
    if (u != users_.end())
      for (auto& c : u->second.conns)
        if (!c.revoked && c.iat_s <= valid_after_s) {
          c.revoked = true;
          ++closed;
          if (auto out = c.out.lock())
            to_close.push_back(std::move(out));
        }
  }
  for (auto& out : to_close) // outside the lock: close() takes the session's own
    out->close(4002, "token revoked");
  return closed;
}

bool admission::revoked(const std::string& user, int64_t iat_s) const {
  std::lock_guard<std::mutex> guard(mtx_);
  return revoked_locked(user, iat_s);
}

bool admission::revoked_locked(const std::string& user, int64_t iat_s) const {
  auto m = marks_.find(user);
  return m != marks_.end() && iat_s <= m->second.valid_after_s;
}

void admission::prune_marks(std::chrono::steady_clock::time_point now) {
  if (now < next_prune_)
    return;
  next_prune_ = now + std::chrono::seconds(60);
  for (auto i = marks_.begin(); i != marks_.end();)
    i = now - i->second.at > limits_.mark_ttl ? marks_.erase(i) : std::next(i);
}

size_t admission::users() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return users_.size();
}

size_t admission::addresses() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return addresses_.size();
}

} // namespace chat::net
