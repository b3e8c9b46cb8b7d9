// Unit: the registry of Socket.IO sockets waiting for their client (net/socketio_recovery.hpp):
// a pid finds its own user's socket only, parked or still connected (taken over from its
// old connection), a parked socket is released at its deadline, and the gauge of parked
// sockets follows. No actor system: the sweep is called with the time the test chooses.
#include "net/socketio_recovery.hpp"

#include <catch2/catch.hpp>

using namespace chat;
using namespace chat::net;
using namespace std::chrono_literals;

namespace {

struct null_outbound final : outbound {
  bool push(frame_ptr) override { return true; }
  void close(uint16_t, const std::string&) override {}
  uint64_t queued_bytes() const override { return 0; }
};

parked_socket detached(const std::string& user, const std::string& sid) {
  parked_socket s;
  s.user = user;
  s.sid = sid;
  s.out = std::make_shared<recoverable_outbound>(std::make_shared<null_outbound>(),
                                                 recoverable_outbound::bounds{});
  s.out->detach();
  return s;
}

// Parks a new detached socket of `user` under `pid`; its outbound, to watch.
std::shared_ptr<recoverable_outbound> park(recovery_registry& reg, const std::string& pid,
                                           const std::string& user) {
  auto s = detached(user, pid + "-sid");
  auto out = s.out;
  reg.park(pid, std::move(s));
  return out;
}

} // namespace

TEST_CASE("recovery registry: a pid finds its own user's parked socket, once") {
  node_counters counters;
  recovery_registry reg(counters, 1000ms);
  auto pid = recovery_registry::new_pid();
  CHECK(pid.size() >= 20); // 120 random bits
  CHECK(pid != recovery_registry::new_pid());
  reg.park(pid, detached("alice", "sid-a"));
  CHECK(counters.sio_detached == 1);
  parked_socket got;
  CHECK(reg.take(pid, "mallory", got) == recovery_registry::lookup::other_user);
  CHECK(reg.parked() == 1); // left as it was
  CHECK(reg.take("nope", "alice", got) == recovery_registry::lookup::unknown);
  REQUIRE(reg.take(pid, "alice", got) == recovery_registry::lookup::found);
  CHECK(got.sid == "sid-a");
  CHECK(counters.sio_detached == 0);
  CHECK(reg.take(pid, "alice", got) == recovery_registry::lookup::unknown);
  reg.put_back(pid, std::move(got));
  CHECK(reg.parked() == 1);
}

TEST_CASE("recovery registry: past the deadline a sweep releases the state") {
  node_counters counters;
  recovery_registry reg(counters, 50ms);
  auto a = detached("alice", "s1");
  auto out = a.out;
  int released = 0;
  out->set_on_release([&](recoverable_outbound::why) { ++released; });
  reg.park("p1", std::move(a));
  reg.sweep(recovery_registry::clock::now()); // not yet
  CHECK(reg.parked() == 1);
  CHECK(released == 0);
  reg.sweep(recovery_registry::clock::now() + 60ms);
  CHECK(reg.parked() == 0);
  CHECK(released == 1);
  CHECK(out->released());
  CHECK(counters.sio_recoveries[size_t(sio_recovery_result::expired)] == 1);
  CHECK(counters.sio_detached == 0);
  parked_socket got;
  CHECK(reg.take("p1", "alice", got) == recovery_registry::lookup::unknown);
}

TEST_CASE("recovery registry: a connected socket is taken over by its own user only") {
  node_counters counters;
  recovery_registry reg(counters, 1000ms);
  int detaches = 0;
  int owner = 0;
  reg.live("p2", "alice", &owner, [&]() -> std::optional<parked_socket> {
    ++detaches;
    return detached("alice", "s2");
  });
  parked_socket got;
  CHECK(reg.take("p2", "mallory", got) == recovery_registry::lookup::other_user);
  CHECK(detaches == 0);
  REQUIRE(reg.take("p2", "alice", got) == recovery_registry::lookup::found);
  CHECK(detaches == 1);
  CHECK(got.sid == "s2");
  // Taken: the registration is gone.
  CHECK(reg.take("p2", "alice", got) == recovery_registry::lookup::unknown);
  // A connection that ended meanwhile (its detacher finds nothing): unknown.
  reg.live("p3", "bob", &owner, [] { return std::optional<parked_socket>(); });
  CHECK(reg.take("p3", "bob", got) == recovery_registry::lookup::unknown);
  reg.unlive("p3", &detaches); // another owner's: nothing happens
  reg.unlive("p3", &owner);
}

TEST_CASE("recovery registry: shutdown releases every parked socket, and later parks at once") {
  node_counters counters;
  recovery_registry reg(counters, 1000ms);
  auto out = park(reg, "p1", "alice");
  reg.shutdown();
  CHECK(out->released());
  CHECK(reg.parked() == 0);
  auto late = park(reg, "p2", "bob");
  CHECK(late->released());
  CHECK(reg.parked() == 0);
  CHECK(counters.sio_detached == 0);
}

TEST_CASE("recovery registry: past its bound of parked sockets, one more is released at once") {
  node_counters counters;
  recovery_registry reg(counters, 1000ms, 2);
  park(reg, "p1", "a");
  park(reg, "p2", "b");
  auto out = park(reg, "p3", "c");
  CHECK(out->released());
  CHECK(reg.parked() == 2);
  CHECK(counters.sio_detached == 2);
  CHECK(counters.sio_recoveries[size_t(sio_recovery_result::overflow)] == 1);
  parked_socket got;
  CHECK(reg.take("p3", "c", got) == recovery_registry::lookup::unknown);
  CHECK(reg.take("p1", "a", got) == recovery_registry::lookup::found);
}

TEST_CASE("recovery registry: one user's parked sockets are bounded apart from the node's") {
  node_counters counters;
  recovery_registry reg(counters, 1000ms, 10, 2);
  park(reg, "a1", "alice");
  park(reg, "a2", "alice");
  park(reg, "b1", "bob");
  auto third = park(reg, "a3", "alice");
  CHECK(third->released());
  CHECK(counters.sio_recoveries[size_t(sio_recovery_result::overflow)] == 1);
  // A pid parked again replaces itself: not one more of the user's.
  auto again = park(reg, "a2", "alice");
  CHECK_FALSE(again->released());
  // Others still find room, and a taken socket frees its user's place.
  CHECK_FALSE(park(reg, "b2", "bob")->released());
  parked_socket got;
  REQUIRE(reg.take("a1", "alice", got) == recovery_registry::lookup::found);
  CHECK_FALSE(park(reg, "a4", "alice")->released());
  CHECK(reg.parked() == 4);
  CHECK(counters.sio_detached == 4);
}
