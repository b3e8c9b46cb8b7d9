// The node's live WebSocket sessions by connection id (Beast chat-multi's shared_state):
// sessions add themselves when their upgrade completes and leave when they finish; the
// admin endpoint and the drain on shutdown read snapshots. Thread-safe.
#pragma once

#include "net/ws_session.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace chat::net {

class session_registry {
public:
  void add(const std::shared_ptr<ws_session>& s);
  void remove(uint64_t id);
  size_t size() const;
  // The sessions alive now, by id.
  std::vector<std::shared_ptr<ws_session>> snapshot() const;

private:
  mutable std::mutex mtx_;
  std::map<uint64_t, std::weak_ptr<ws_session>> sessions_;
};

} // namespace chat::net
