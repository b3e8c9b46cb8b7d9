// Publishing and hearing token revocations on the node-wide channel.
#include "net/redis/revocations.hpp"

#include "config/log.hpp"

namespace chat::redis {

namespace {
const std::string revoke_channel = "{presence}:revoke";
}

revocations::revocations(client& c) : client_(c) {}

std::string revocations::channel() { return revoke_channel; }

void revocations::start(std::function<void(const revocation&)> heard) {
  channel_handlers h;
  h.on_message = [heard = std::move(heard), counts = counts_,
                  node = client_.config().node](std::string_view payload) {
    revocation r;
    if (auto err = decode_revocation(payload, r); !err.empty()) {
      counts->malformed.fetch_add(1, std::memory_order_relaxed);
      CHAT_LOG_LIMITED(spdlog::level::warn, "redis: dropped a revocation ({} bytes): {}",
                       payload.size(), err);
      return;
    }
    if (r.origin != node) // the revoking node closed its own connections already
      heard(r);
  };
  h.on_active = [](bool) {};
  client_.subscribe(revoke_channel, std::move(h));
}

bool revocations::publish(const std::string& user, int64_t valid_after_s) {
  auto payload = encode_revocation({client_.config().node, user, valid_after_s});
  auto pub = client_.config().cluster ? "SPUBLISH" : "PUBLISH";
  bool sent = client_.command(revoke_channel, {pub, revoke_channel, payload},
                              [counts = counts_, user](response&& resp) {
                                if (resp.ok())
                                  return;
                                counts->failed.fetch_add(1, std::memory_order_relaxed);
                                CHAT_LOG_LIMITED(spdlog::level::warn,
                                                 "redis: the revocation of '{}' did not reach "
                                                 "the other nodes: {}",
                                                 user, resp.describe());
                              });
  if (!sent) {
    counts_->failed.fetch_add(1, std::memory_order_relaxed);
    CHAT_LOG_LIMITED(spdlog::level::warn,
                     "redis: the revocation of '{}' was refused (queue full or stopped)", user);
  }
  return sent;
}

} // namespace chat::redis
