// A command on its way through the Redis layer, and what its caller gets back.
#pragma once

#include "net/redis/resp.hpp"
#include "net/redis/settings.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace chat::redis {

class script;

// Why a command has no reply from Redis. `unavailable` and `rejected` commands were never
// sent; `lost` and `timeout` ones were, and may or may not have been executed.
enum class failure : uint8_t {
  none,
  rejected,    // the queue bound was reached, or the client is stopped
  unavailable, // no connection to the right server within redis.unavailable-timeout
  lost,        // its connection dropped before the reply came
  timeout,     // no reply within redis.command-timeout (the connection was reset)
  redirects,   // too many MOVED/ASK redirections
  stopped,     // the client stopped
};

const char* to_string(failure f);

struct response {
  failure fail = failure::none;
  reply value; // when fail == none: Redis's reply, possibly an error reply
  bool ok() const { return fail == failure::none && !value.is_error(); }
  // A line for logs and error messages.
  std::string describe() const;
};

// When a command is written: at once, or (batched: the hot path's room sequencing) within
// redis.batch-delay of the previous write, together with what else came meanwhile.
enum class dispatch : uint8_t { now, batched };

// Runs on the Redis io thread; callers post to their own thread from here.
using callback = std::function<void(response&&)>;

struct request {
  std::string bytes;          // the formatted command (EVALSHA for a script)
  callback done;
  int32_t slot = -1;          // the cluster slot of its key; -1: any node will do
  int64_t deadline_ns = 0;    // not sent by then: fails as unavailable
  int64_t not_before_ns = 0;  // TRYAGAIN/CLUSTERDOWN/LOADING: retry after this
  const script* scr = nullptr; // EVALSHA of this script: re-sent as EVAL on NOSCRIPT
  std::optional<endpoint> ask; // ASK redirection: send ASKING + the command there, once
  uint8_t redirects = 0;
  bool internal = false;      // the layer's own (script loads, keepalive, slot map)
  dispatch when = dispatch::now;
  int64_t sent_ns = 0;        // when it was written (for command-timeout)
};

} // namespace chat::redis
