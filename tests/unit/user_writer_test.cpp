// Unit: the user writer writes online flags and the access log, and keeps at most log_max
// pending access entries (they pile up while the store fails), dropping and counting the
// oldest.
#include "actors/interfaces.hpp"
#include "actors/user_writer.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

using namespace chat;

namespace {

class fake_users : public storage::user_store {
public:
  void set_online(const std::string& user, bool online, int64_t) override {
    std::lock_guard<std::mutex> g(mu_);
    online_[user] = online;
  }
  bool is_online(const std::string& user) override {
    std::lock_guard<std::mutex> g(mu_);
    return online_[user];
  }
  void log_access(const std::vector<storage::access_entry>& entries) override {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& e : entries)
      users_.push_back(e.user);
  }
  uint64_t prune_access_log(int64_t, uint32_t) override { return 0; }
  uint64_t prune_users(int64_t, uint32_t) override { return 0; }
  std::vector<std::string> logged() {
    std::lock_guard<std::mutex> g(mu_);
    return users_;
  }

private:
  std::mutex mu_;
  std::map<std::string, bool> online_;
  std::vector<std::string> users_;
};

// Forwards to a fake_users the test keeps (the writer owns its store).
class shared_users : public storage::user_store {
public:
  explicit shared_users(fake_users& f) : f_(f) {}
  void set_online(const std::string& u, bool o, int64_t t) override { f_.set_online(u, o, t); }
  bool is_online(const std::string& u) override { return f_.is_online(u); }
  void log_access(const std::vector<storage::access_entry>& e) override { f_.log_access(e); }
  uint64_t prune_access_log(int64_t, uint32_t) override { return 0; }
  uint64_t prune_users(int64_t, uint32_t) override { return 0; }

private:
  fake_users& f_;
};

bool flush(caf::actor_system& sys, const caf::actor& writer) {
  bool ok = false;
  caf::scoped_actor self{sys};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  self->request(writer, caf::infinite, w_flush_atom::value,
                int64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          deadline.time_since_epoch())
                          .count()))
    .receive([&](bool b) { ok = b; }, [](caf::error&) {});
  return ok;
}

} // namespace

TEST_CASE("at most log_max access entries wait; the oldest are dropped and counted") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  fake_users users;
  auto dropped = std::make_shared<std::atomic<uint64_t>>(0);
  auto writer = spawn_user_writer(sys, std::make_unique<shared_users>(users), 3, dropped);
  for (int i = 1; i <= 5; ++i)
    caf::anon_send(writer, u_access_atom::value,
                   storage::access_entry{"u" + std::to_string(i), "n", "r", "connect", "", i});
  caf::anon_send(writer, u_online_atom::value, std::string("u5"), true, int64_t(5));
  REQUIRE(flush(sys, writer));
  CHECK(users.logged() == std::vector<std::string>{"u3", "u4", "u5"});
  CHECK(dropped->load() == 2);
  CHECK(users.is_online("u5"));
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
}
