// HTTP connection: keep-alive request loop, timeouts, answers, take-over (see header).
#include "net/http_session.hpp"

#include "config/log.hpp"
#include "net/json_reply.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <cerrno>
#include <sys/socket.h>

namespace chat::net {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;

http_exchange::http_exchange(std::shared_ptr<http_session> s, uint64_t request_no)
  : session_(std::move(s)), request_no_(request_no) {}

const http_request& http_exchange::request() const { return session_->request_; }
const url_target& http_exchange::target() const { return session_->target_; }
io_worker& http_exchange::worker() const { return session_->worker_; }

std::string http_exchange::remote() const {
  boost::system::error_code ec;
  auto ep = session_->transport().socket().remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::optional<asio::ip::address> http_exchange::peer_address() const {
  boost::system::error_code ec;
  auto ep = session_->transport().socket().remote_endpoint(ec);
  if (ec)
    return std::nullopt;
  return ep.address();
}

void http_exchange::respond(http_reply reply) const {
  asio::dispatch(session_->worker_.context(),
                 [s = session_, no = request_no_, r = std::move(reply)]() mutable {
                   s->answer(no, std::move(r));
                 });
}

taken_connection http_exchange::take_over() const {
  auto& s = *session_;
  s.awaiting_ = false;
  s.taken_ = true;
  s.transport().expires_never();
  auto data = s.buffer_.data();
  std::string leftover(static_cast<const char*>(data.data()), data.size());
  s.buffer_.consume(data.size());
  if (s.tls_)
    return {tcp::socket(s.worker_.context()), std::move(s.tls_), std::move(leftover), s.worker_};
  return {s.plain_.release_socket(), nullptr, std::move(leftover), s.worker_};
}

void http_exchange::watch_close(std::function<void()> gone) const {
  session_->watch_close(request_no_, std::move(gone));
}

http_session::http_session(tcp::socket sock, io_worker& worker, const route_table& routes,
                           const http_limits& limits, http_counters& counters)
  : plain_(std::move(sock)),
    worker_(worker),
    routes_(routes),
    limits_(limits),
    counters_(counters),
    // Unparsed bytes: a header in progress plus one read; bodies are parsed as they come.
    buffer_(size_t(limits.header_limit) + 65536) {}

http_session::http_session(std::unique_ptr<tls_stream> tls, io_worker& worker,
                           const route_table& routes, const http_limits& limits,
                           http_counters& counters)
  : http_session(tcp::socket(worker.context()), worker, routes, limits, counters) {
  tls_ = std::move(tls);
}

void http_session::run() {
  read_request();
}

void http_session::read_request() {
  parser_.emplace();
  limit_parser(*parser_, limits_);
  transport().expires_after(limits_.timeout);
  with_stream([this](auto& stream) {
    http::async_read(stream, buffer_, *parser_,
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       self->on_read(ec);
                     });
  });
}

// Waits for the socket to turn readable while the request waits for its answer: an end of
// stream (or a reset) means the client left. Bytes it sends meanwhile (pipelining) stay in
// the socket for the next read, and end the watch.
void http_session::watch_close(uint64_t request_no, std::function<void()> gone) {
  // Under TLS the bytes peeked are records (a close_notify alert too): any ends the watch.
  transport().socket().async_wait(
    tcp::socket::wait_read,
    [self = shared_from_this(), request_no, gone = std::move(gone)](boost::system::error_code ec) mutable {
      if (!self->awaiting_ || self->requests_ != request_no || self->taken_)
        return; // answered meanwhile
      if (ec == asio::error::operation_aborted)
        return;
      if (!ec) {
        char byte;
        auto n = ::recv(self->transport().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0)
          return;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          self->watch_close(request_no, std::move(gone));
          return;
        }
      }
      gone();
    });
}

void http_session::on_read(boost::system::error_code ec) {
  if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted)
    return; // the client closed between requests, or the node is stopping
  if (ec == beast::error::timeout) {
    // An idle keep-alive connection simply ends; a request that never completed is counted.
    if (parser_->got_some()) {
      counters_.count(http_error::timeout);
      CHAT_LOG_LIMITED(spdlog::level::info, "http: request not received within {} ms",
                       limits_.timeout.count());
    }
    return;
  }
  if (ec) {
    if (!is_parse_error(ec) || ec == http::error::partial_message)
      return; // the connection failed or ended mid-request: nobody to answer
    counters_.count(parse_error_kind(ec));
    CHAT_LOG_LIMITED(spdlog::level::info, "http: refused a request: {}", ec.message());
    write(parse_error_reply(ec), false);
    return;
  }
  transport().expires_never();
  ++requests_;
  request_ = parser_->release();
  awaiting_ = true;
  http_reply refusal;
  auto* handler = route_request(routes_, request_, target_, refusal);
  if (!handler) {
    if (refusal.status == 400)
      counters_.count(http_error::malformed);
    answer(requests_, std::move(refusal));
    return;
  }
  http_exchange ex(shared_from_this(), requests_);
  try {
    (*handler)(ex);
  } catch (const std::exception& e) {
    CHAT_LOG_LIMITED(spdlog::level::err, "http: route {} failed: {}", target_.path, e.what());
    if (awaiting_)
      answer(requests_, json_error(500, "internal error"));
  }
}

void http_session::answer(uint64_t request_no, http_reply reply) {
  if (!awaiting_ || request_no != requests_ || taken_)
    return; // answered already, or the connection moved on
  awaiting_ = false;
  bool keep_alive = request_.keep_alive() && requests_ < limits_.max_requests;
  write(std::move(reply), keep_alive);
}

void http_session::write(http_reply reply, bool keep_alive) {
  response_ = {};
  response_.version(request_.version() == 10 ? 10 : 11);
  response_.result(reply.status >= 100 && reply.status <= 599 ? unsigned(reply.status) : 500u);
  response_.set(http::field::content_type, reply.content_type);
  for (auto& [name, value] : reply.headers)
    response_.set(name, value);
  response_.keep_alive(keep_alive);
  response_.body() = std::move(reply.body);
  response_.prepare_payload();
  transport().expires_after(limits_.timeout);
  with_stream([this, keep_alive](auto& stream) {
    http::async_write(stream, response_,
                      [self = shared_from_this(), keep_alive](boost::system::error_code ec,
                                                              size_t) {
                        self->on_write(ec, keep_alive);
                      });
  });
}

void http_session::on_write(boost::system::error_code ec, bool keep_alive) {
  if (ec) {
    if (ec == beast::error::timeout)
      counters_.count(http_error::timeout);
    return; // the socket closes with the session
  }
  if (!keep_alive) {
    boost::system::error_code ignored;
    transport().socket().shutdown(tcp::socket::shutdown_send, ignored);
    return;
  }
  read_request();
}

} // namespace chat::net
