// Token revocations across nodes: the node where a user's tokens are revoked (logout,
// chatctl revoke) publishes it on one node-wide channel, {presence}:revoke (the presence
// hash tag, so on a cluster it lives on the same slot as the other node-wide keys); every
// node subscribed hears it and closes that user's connections it holds. One publish per
// revocation, whatever the number of nodes. A revocation published while Redis is
// unreachable is not retried: it is logged and counted, and the other nodes still refuse
// the tokens at their next upgrade or refresh through the shared store's mark.
#pragma once

#include "net/redis/client.hpp"
#include "net/redis/message_codec.hpp"

#include <atomic>
#include <functional>
#include <memory>

namespace chat::redis {

class revocations {
public:
  explicit revocations(client& c);

  // Subscribes; `heard` runs on the client's io thread for every revocation of another
  // node (and must not block). Once, before or after the client starts.
  void start(std::function<void(const revocation&)> heard);
  // Any thread: tells every node (false when the client refused the command at once).
  bool publish(const std::string& user, int64_t valid_after_s);

  static std::string channel();
  // Revocations that could not be published / published payloads that did not decode.
  uint64_t failed() const { return counts_->failed.load(std::memory_order_relaxed); }
  uint64_t malformed() const { return counts_->malformed.load(std::memory_order_relaxed); }

private:
  struct counts {
    std::atomic<uint64_t> failed{0}, malformed{0};
  };
  client& client_;
  std::shared_ptr<counts> counts_ = std::make_shared<counts>();
};

} // namespace chat::redis
