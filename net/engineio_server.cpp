// Engine.IO request verification and session registry, in the order the reference server
// checks: transport, then sid (unknown sid; a request for another transport than the
// session's), then for a handshake the method and the protocol version.
#include "net/engineio_server.hpp"

namespace chat::net::eio {

server::server(limits lim, handler_factory make_handler)
  : lim_(lim), make_handler_(std::move(make_handler)) {}

server::~server() = default;

query read_query(const url_target& target) {
  query q;
  std::string* fields[] = {&q.eio, &q.transport, &q.sid};
  const char* keys[] = {"EIO", "transport", "sid"};
  for (size_t i = 0; i < 3; ++i) {
    auto p = find_single_param(target, keys[i]);
    if (!p.error.empty())
      q.ok = false;
    *fields[i] = std::move(p.value);
  }
  return q;
}

std::optional<http_answer> server::verify(const query& p, bool websocket,
                                          std::string_view method) const {
  if (!p.ok)
    return error_answer(http_error::bad_request);
  bool known = (p.transport == "polling" && lim_.allow_polling)
               || (p.transport == "websocket" && lim_.allow_websocket);
  if (!known)
    return error_answer(http_error::transport_unknown);
  if (!p.sid.empty()) {
    auto s = find(p.sid);
    if (!s)
      return error_answer(http_error::session_unknown);
    // A request for another transport than the session's is only valid as an upgrade.
    bool polling = s->current_transport() == transport::polling;
    if (websocket ? !(polling && p.transport == "websocket") : p.transport != "polling" || !polling)
      return error_answer(http_error::bad_request);
    return std::nullopt;
  }
  if (p.transport == "websocket" && !websocket)
    return error_answer(http_error::bad_request);
  if (method != "GET")
    return error_answer(http_error::bad_handshake_method);
  if (p.eio != "4")
    return error_answer(http_error::unsupported_protocol_version);
  if (size() >= lim_.max_sessions)
    return error_answer(http_error::forbidden, 503);
  return std::nullopt;
}

std::shared_ptr<session> server::create(clock::time_point now, const ticker_factory& make_ticker,
                                        std::string_view client_address) {
  std::weak_ptr<registry> weak = reg_;
  auto s = std::make_shared<session>(random_id(), lim_, now,
                                     [weak](const std::string& sid, close_cause cause) {
                                       if (auto reg = weak.lock()) {
                                         std::lock_guard<std::mutex> guard(reg->mtx);
                                         reg->sessions.erase(sid);
                                         ++reg->closed[size_t(cause)];
                                       }
                                     });
  s->set_client_address(std::string(client_address));
  if (make_handler_)
    s->set_handler(make_handler_(*s));
  if (make_ticker)
    s->set_ticker(make_ticker(s));
  std::lock_guard<std::mutex> guard(reg_->mtx);
  reg_->sessions.emplace(s->sid(), s);
  ++reg_->opened;
  return s;
}

server::http_result server::handle_http(const request& req, std::function<void()> wake,
                                        clock::time_point now, const ticker_factory& make_ticker,
                                        std::string_view client_address) {
  const auto& p = req.params;
  http_result r;
  if (auto err = verify(p, false, req.method)) {
    r.answer = std::move(err);
    return r;
  }
  if (p.sid.empty()) {
    r.answer = create(now, make_ticker, client_address)->open_polling(now);
    return r;
  }
  auto s = find(p.sid);
  if (!s) { // closed since verify
    r.answer = error_answer(http_error::session_unknown);
  } else if (req.method == "GET") {
    r.answer = s->get(now, std::move(wake));
    if (!r.answer)
      r.pending = std::move(s);
  } else if (req.method == "POST") {
    r.answer = s->post(req.body, req.content_type, now);
  } else {
    r.answer = error_answer(http_error::bad_request);
  }
  return r;
}

std::optional<http_answer> server::check_websocket(const query& q) const {
  return verify(q, true, "GET");
}

std::shared_ptr<session> server::attach_websocket(const query& p,
                                                  std::shared_ptr<ws_link> link,
                                                  clock::time_point now,
                                                  const ticker_factory& make_ticker,
                                                  std::string_view client_address) {
  if (verify(p, true, "GET"))
    return nullptr;
  if (p.sid.empty()) {
    auto s = create(now, make_ticker, client_address);
    s->open_websocket(std::move(link), now);
    return s;
  }
  auto s = find(p.sid);
  if (!s || !s->begin_upgrade(std::move(link), now))
    return nullptr;
  return s;
}

std::shared_ptr<session> server::find(const std::string& sid) const {
  std::lock_guard<std::mutex> guard(reg_->mtx);
  auto i = reg_->sessions.find(sid);
  return i == reg_->sessions.end() ? nullptr : i->second;
}

size_t server::size() const {
  std::lock_guard<std::mutex> guard(reg_->mtx);
  return reg_->sessions.size();
}

std::vector<std::shared_ptr<session>> server::sessions() const {
  std::vector<std::shared_ptr<session>> out;
  std::lock_guard<std::mutex> guard(reg_->mtx);
  for (auto& [sid, s] : reg_->sessions)
    out.push_back(s);
  return out;
}

uint64_t server::opened() const {
  std::lock_guard<std::mutex> guard(reg_->mtx);
  return reg_->opened;
}

uint64_t server::closed(close_cause c) const {
  std::lock_guard<std::mutex> guard(reg_->mtx);
  return reg_->closed[size_t(c)];
}

void server::shutdown(const std::string& reason) {
  for (auto& s : sessions())
    s->shutdown(reason);
}

} // namespace chat::net::eio
