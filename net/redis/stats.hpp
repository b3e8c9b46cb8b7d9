// Counters of the Redis layer, for /metrics and tests. Written on the Redis io thread (and
// `rejected` by submitting threads); read from anywhere. Relaxed atomics: counts, not locks.
#pragma once

#include <atomic>
#include <cstdint>

namespace chat::redis {

struct stats {
  using counter = std::atomic<uint64_t>;
  counter commands{0};       // accepted for sending
  counter batches{0};        // writes to a socket (each carries one or more commands)
  counter replies{0};        // replies handed to callers (errors from Redis included)
  counter error_replies{0};  // of which Redis answered with an error
  counter rejected{0};       // refused at submit: queue bound reached or client stopped
  counter unavailable{0};    // failed after waiting redis.unavailable-timeout unsent
  counter lost{0};           // in flight when their connection dropped (outcome unknown)
  counter timeouts{0};       // connections reset because a reply took command-timeout
  counter redirects{0};      // MOVED, ASK, TRYAGAIN, CLUSTERDOWN retries
  counter noscript{0};       // EVALSHA answered NOSCRIPT, re-sent as EVAL
  counter connects{0};       // connections established (after AUTH/SELECT)
  counter connect_failures{0};
  counter disconnects{0};    // established connections lost
  counter map_refreshes{0};  // cluster slot maps applied
  counter messages{0};       // pub/sub messages handed to channel handlers
  counter resubscribes{0};   // subscriptions re-established after a loss or a slot move
  counter bad_replies{0};    // replies or payloads that did not have the expected shape
  counter callback_errors{0}; // exceptions thrown by callers' callbacks (logged, dropped)
};

} // namespace chat::redis
