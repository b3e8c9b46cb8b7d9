// Session registry (see session_registry.hpp).
#include "net/session_registry.hpp"

namespace chat::net {

void session_registry::add(const std::shared_ptr<ws_session>& s) {
  std::lock_guard<std::mutex> guard(mtx_);
  sessions_.emplace(s->id(), s);
}

void session_registry::remove(uint64_t id) {
  std::lock_guard<std::mutex> guard(mtx_);
  sessions_.erase(id);
}

size_t session_registry::size() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return sessions_.size();
}

std::vector<std::shared_ptr<ws_session>> session_registry::snapshot() const {
  std::vector<std::shared_ptr<ws_session>> out;
  std::lock_guard<std::mutex> guard(mtx_);
  out.reserve(sessions_.size());
  for (auto& [id, weak] : sessions_)
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  return out;
}

} // namespace chat::net
