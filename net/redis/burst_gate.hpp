// One Redis round trip per batch of sequencing calls. Calls submitted while an earlier burst
// is still unanswered are held back, and go out together, in submission order, as one
// pipelined write as soon as every call of that burst has its reply. Redis then runs them
// in one pass of its event loop (one read, one reply write, one write per subscriber of
// all their publishes) instead of one pass per message, which is most of what a message
// costs Redis and the node's Redis thread when messages arrive one by one.
// Nothing waits for a batch to fill: with nothing unanswered a call goes out at once, from
// the caller's thread; held calls go out from the client's thread, on the last reply.
//
// On a single server only: on a cluster a burst spans several masters, and one slow master
// would hold back the rooms of all the others; there every call goes out at once.
//
// Bounds: held calls count against redis.queue-commands / redis.queue-bytes. A held call
// keeps the deadline it got when submitted (redis.unavailable-timeout), so waiting here
// does not extend how long a send waits for Redis. While the client is down nothing is
// held (calls wait in the router, each with its own deadline).
#pragma once

#include "net/redis/request.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace chat::redis {

class client;
class script;

class burst_gate {
public:
  explicit burst_gate(client& c);
  ~burst_gate();
  burst_gate(const burst_gate&) = delete;
  burst_gate& operator=(const burst_gate&) = delete;

  // `bytes`: an EVALSHA of `s` (script::append_evalsha), routed by `slot`. Any thread.
  // False when refused (queue bound): `done` is then never called. A call refused later by
  // the client gets failure::rejected.
  bool submit(const script& s, std::string&& bytes, int32_t slot, callback done);

  // Bursts sent and the calls they carried (calls / bursts: the mean burst).
  uint64_t bursts() const;
  uint64_t calls() const;

private:
  struct state; // shared with the callbacks on the client's thread
  std::shared_ptr<state> state_;
};

} // namespace chat::redis
