// Listeners, HTTP request handling and the WebSocket upgrade. Plain HTTP requests get one
// answer and a closed connection; `GET /ws` upgrades to a ws_session with its own
// connection actor.
#include "net/server.hpp"

#include "actors/connection_actor.hpp"
#include "actors/node_context.hpp"
#include "config/hex.hpp"
#include "net/native_codec.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <openssl/evp.h>

#include <thread>

namespace chat::net {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    int hi = i + 2 < s.size() ? config::hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? config::hex_value(s[i + 2]) : -1;
    if (s[i] == '%' && hi >= 0 && lo >= 0) {
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::string websocket_accept_key(const std::string& client_key) {
  static const std::string guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  auto input = client_key + guid;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha1(), nullptr);
  unsigned char out[64] = {};
  int n = EVP_EncodeBlock(out, md, int(md_len));
  return std::string(reinterpret_cast<char*>(out), size_t(n));
}

namespace {

// Value of `key` in the query string of `target`, "" when absent.
std::string query_param(std::string_view target, std::string_view key) {
  auto q = target.find('?');
  if (q == std::string_view::npos)
    return {};
  auto rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

bool valid_user_name(const std::string& u) {
  if (u.empty() || u.size() > 64)
    return false;
  for (char c : u)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

std::string json_error(const std::string& message) {
  std::string out = "{\"error\":\"";
  for (char c : message)
    if (c != '"' && c != '\\')
      out.push_back(c);
  return out + "\"}";
}

} // namespace

// One plain HTTP request on a fresh connection, possibly turning into a WebSocket.
class server::http_exchange : public std::enable_shared_from_this<http_exchange> {
public:
  http_exchange(tcp::socket s, io_worker& w, bool admin_port)
    : sock(std::move(s)), worker(w), admin(admin_port), timer(w.context()) {
    parser.header_limit(8192);
    parser.body_limit(65536);
  }

  void read(std::function<void(std::shared_ptr<http_exchange>)> done) {
    timer.expires_after(std::chrono::seconds(10));
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec)
        self->sock.close(ec);
    });
    http::async_read(sock, buffer, parser,
                     [self = shared_from_this(), done](boost::system::error_code ec, size_t) {
                       self->timer.cancel();
                       if (ec) {
                         if (ec == http::error::header_limit || ec == http::error::body_limit
                             || ec == http::error::bad_target || ec == http::error::bad_method)
                           self->respond(400, "application/json", json_error(ec.message()));
                         return;
                       }
                       done(self);
                     });
  }

  void respond(int status, const std::string& type, std::string body) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(unsigned(status));
    res->version(11);
    res->set(http::field::content_type, type);
    res->set(http::field::connection, "close");
    res->body() = std::move(body);
    res->prepare_payload();
    http::async_write(sock, *res,
                      [self = shared_from_this(), res](boost::system::error_code, size_t) {
                        boost::system::error_code ignored;
                        self->sock.shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  tcp::socket sock;
  io_worker& worker;
  bool admin;
  asio::steady_timer timer;
  boost::beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
};

server::server(node_context& ctx)
  : ctx_(ctx),
    pool_(ctx.cfg.io_threads, std::chrono::milliseconds(std::max<int64_t>(
                                100, std::min<int64_t>(1000, ctx.cfg.idle_timeout.count() / 4)))),
    admin_worker_(std::chrono::milliseconds(1000)),
    ws_acceptor_(pool_.workers()[0]->context()),
    admin_acceptor_(admin_worker_.context()) {
  limits_.max_frame_bytes = ctx.cfg.max_frame_bytes;
  limits_.queue_bytes = ctx.cfg.queue_bytes;
  limits_.idle_timeout = ctx.cfg.idle_timeout;
  limits_.frame_timeout = ctx.cfg.frame_timeout;
}

server::~server() = default;

namespace {

tcp::endpoint bind_listener(tcp::acceptor& acc, const std::string& host, uint16_t port,
                            const char* what) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    throw std::runtime_error(std::string(what) + ".host: not an IP address: '" + host + "'");
  tcp::endpoint ep(addr, port);
  acc.open(ep.protocol());
  acc.set_option(tcp::acceptor::reuse_address(true));
  acc.bind(ep, ec);
  if (ec)
    throw std::runtime_error(std::string("cannot listen on ") + what + " " + host + ":"
                             + std::to_string(port) + ": " + ec.message());
  acc.listen(asio::socket_base::max_listen_connections);
  return acc.local_endpoint();
}

} // namespace

void server::start(admin_handler admin) {
  admin_ = std::move(admin);
  ws_endpoint_ = bind_listener(ws_acceptor_, ctx_.cfg.host, ctx_.cfg.port, "net");
  admin_endpoint_ = bind_listener(admin_acceptor_, ctx_.cfg.admin_host, ctx_.cfg.admin_port,
                                  "admin");
  accept(ws_acceptor_, false);
  accept(admin_acceptor_, true);
  pool_.start();
  admin_worker_.start();
}

void server::accept(tcp::acceptor& acc, bool admin) {
  auto& worker = admin ? admin_worker_ : pool_.next();
  acc.async_accept(worker.context(), [this, &acc, admin, &worker](boost::system::error_code ec,
                                                                  tcp::socket sock) {
    if (stopping_)
      return;
    if (!ec) {
      sock.set_option(tcp::no_delay(true), ec);
      auto ex = std::make_shared<http_exchange>(std::move(sock), worker, admin);
      ex->read([this](std::shared_ptr<http_exchange> e) {
        const auto& req = e->parser.get();
        std::string target(req.target());
        std::string path = target.substr(0, target.find('?'));
        if (e->admin) {
          http_reply r{404, "application/json", json_error("not found")};
          try {
            if (admin_)
              r = admin_(std::string(req.method_string()), target);
          } catch (const std::exception& ex) {
            r = http_reply{400, "application/json", json_error(ex.what())};
          }
          e->respond(r.status, r.content_type, std::move(r.body));
        } else if (path == "/ws") {
          upgrade(e);
        } else if (path == "/healthz") {
          e->respond(200, "application/json", "{\"status\":\"ok\"}");
        } else {
          e->respond(404, "application/json", json_error("not found: " + path));
        }
      });
    } else if (ec == asio::error::operation_aborted) {
      return;
    }
    accept(acc, admin);
  });
}

void server::upgrade(std::shared_ptr<http_exchange> ex) {
  const auto& req = ex->parser.get();
  if (req.method() != http::verb::get || !boost::beast::websocket::is_upgrade(req)) {
    ex->respond(426, "application/json", json_error("WebSocket upgrade required on /ws"));
    return;
  }
  auto key = std::string(req[http::field::sec_websocket_key]);
  if (key.empty() || req[http::field::sec_websocket_version] != "13") {
    ex->respond(400, "application/json", json_error("bad WebSocket handshake"));
    return;
  }
  std::string target(req.target());
  auto user = query_param(target, "user");
  auto ack = query_param(target, "ack");
  auto id = ctx_.next_conn_id.fetch_add(1);
  if (!ctx_.cfg.allow_anonymous) {
    ex->respond(401, "application/json", json_error("authentication required"));
    return;
  }
  if (user.empty())
    user = "guest-" + std::to_string(id);
  if (!valid_user_name(user)) {
    ex->respond(400, "application/json",
                json_error("user must be 1..64 characters of A-Z a-z 0-9 _ - ."));
    return;
  }
  if (!ack.empty() && ack != "seq" && ack != "persisted") {
    ex->respond(400, "application/json", json_error("ack must be seq or persisted"));
    return;
  }
  if (session_count() >= ctx_.cfg.max_connections || stopping_) {
    ex->respond(503, "application/json", json_error("connection limit reached"));
    return;
  }
  auto response = std::make_shared<std::string>(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: " + websocket_accept_key(key) + "\r\n\r\n");
  asio::async_write(ex->sock, asio::buffer(*response),
                    [this, ex, response, user, ack, id](boost::system::error_code ec, size_t) {
    if (ec)
      return;
    auto data = ex->buffer.data();
    std::string leftover(static_cast<const char*>(data.data()), data.size());
    auto session = std::make_shared<ws_session>(
      std::move(ex->sock), ex->worker, limits_, id, ctx_.counters,
      [this](ws_session& s, const std::string&) { on_session_closed(s); });
    session->set_user(user);
    ctx_.counters.connections_total.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> guard(mtx_);
      sessions_.emplace(id, session);
    }
    connection_info info;
    info.id = id;
    info.user = user;
    info.session = ctx_.cfg.node + "-" + std::to_string(id);
    info.remote = session->remote();
    info.ack_persisted = ack == "persisted";
    info.out = session;
    info.enc = &native_encoder::instance();
    session->start(spawn_connection(ctx_, std::move(info)), std::move(leftover));
  });
}

void server::on_session_closed(ws_session& s) {
  std::lock_guard<std::mutex> guard(mtx_);
  sessions_.erase(s.id());
}

size_t server::session_count() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return sessions_.size();
}

std::vector<std::shared_ptr<ws_session>> server::sessions() const {
  std::vector<std::shared_ptr<ws_session>> out;
  std::lock_guard<std::mutex> guard(mtx_);
  for (auto& [id, weak] : sessions_)
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  return out;
}

void server::stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  asio::post(pool_.workers()[0]->context(), [this] {
    boost::system::error_code ignored;
    ws_acceptor_.close(ignored);
  });
  asio::post(admin_worker_.context(), [this] {
    boost::system::error_code ignored;
    admin_acceptor_.close(ignored);
  });
  for (auto& s : sessions())
    s->close(1001, "going away");
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (session_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pool_.stop();
  admin_worker_.stop();
  admin_worker_.join();
  // The network threads are gone: end what did not finish its closing handshake.
  for (auto& s : sessions())
    s->force_close("going away");
}

} // namespace chat::net
