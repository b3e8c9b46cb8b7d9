// Connection life cycle (connect, upgrade, join, close), the write queue, and measuring the
// frames one connection receives.
#include "client_conn.hpp"

#include <chrono>
#include <sstream>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include "fleet.hpp"
#include "message_fields.hpp"
#include "protocol_codec.hpp"
#include "worker.hpp"

namespace chat::loadgen {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

namespace {

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::nanoseconds(static_cast<int64_t>(s * 1e9));
}

uint64_t elapsed_since(int64_t due, int64_t now) {
  return now > due ? static_cast<uint64_t>(now - due) : 0;
}

} // namespace

client_conn::client_conn(worker& owner, fleet& group, conn_spec spec)
    : worker_(owner), fleet_(group), spec_(std::move(spec)),
      target_(owner.codec().target(spec_.user)), ws_(owner.io()), setup_timer_(owner.io()) {}

bool client_conn::setting_up() const {
  return state_ == state::connecting || state_ == state::upgrading || state_ == state::joining;
}

void client_conn::start() {
  const options& o = fleet_.opts();
  state_ = state::connecting;
  setup_timer_.expires_after(seconds(o.connect_timeout));
  setup_timer_.async_wait([this](beast::error_code ec) {
    if (ec || !setting_up())
      return;
    const char* stage = state_ == state::connecting  ? "connect"
                        : state_ == state::upgrading ? "websocket upgrade"
                                                     : "join";
    std::ostringstream why;
    why << stage << ": no answer within " << fleet_.opts().connect_timeout << " s";
    fail(why.str());
  });
  beast::get_lowest_layer(ws_).async_connect(spec_.endpoint,
                                             [this](beast::error_code ec) { on_connect(ec); });
}

void client_conn::on_connect(beast::error_code ec) {
  if (state_ != state::connecting)
    return;
  if (ec)
    return fail("connect", ec);
  beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true), ec);
  if (ec)
    return fail("TCP_NODELAY", ec);

  const options& o = fleet_.opts();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = seconds(o.connect_timeout); // also bounds the closing handshake
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.auto_fragment(false);
  ws_.write_buffer_bytes(o.size + 512); // a whole send frame is masked in one pass

  state_ = state::upgrading;
  ws_.async_handshake(upgrade_response_, spec_.host, target_,
                      [this](beast::error_code e) { on_upgrade(e); });
}

void client_conn::on_upgrade(beast::error_code ec) {
  if (state_ != state::upgrading)
    return;
  if (ec) {
    if (ec == websocket::error::upgrade_declined) {
      std::ostringstream why;
      why << "websocket upgrade: declined with HTTP " << upgrade_response_.result_int() << " "
          << upgrade_response_.reason();
      return fail(why.str());
    }
    return fail("websocket upgrade", ec);
  }
  upgrade_response_ = {};
  ws_.text(true);
  state_ = state::joining;
  std::string greeting;
  if (worker_.codec().encode_greeting(greeting, spec_.user))
    out_.push() = std::move(greeting);
  worker_.codec().encode_join(out_.push(), spec_.room);
  write();
  read();
}

void client_conn::read() {
  ws_.async_read(read_buffer_, [this](beast::error_code ec, std::size_t) { on_read(ec); });
}

void client_conn::on_read(beast::error_code ec) {
  if (state_ == state::closed)
    return;
  if (ec) {
    if (state_ == state::closing)
      return; // the closing handshake reports the end
    return fail("read", ec);
  }
  const int64_t now = now_ns();
  const auto data = read_buffer_.cdata();
  on_frame({static_cast<const char*>(data.data()), data.size()}, now);
  read_buffer_.consume(read_buffer_.size());
  if (state_ != state::closed)
    read();
}

void client_conn::on_frame(std::string_view frame, int64_t now) {
  const event ev = worker_.codec().parse(frame);
  if (!ev.reply.empty()) {
    out_.push().assign(ev.reply);
    write();
  }
  switch (ev.type) {
  case event::kind::msg:
    on_msg(ev, now);
    break;
  case event::kind::ack:
    on_ack(ev, now);
    break;
  case event::kind::joined:
    if (state_ == state::joining) {
      state_ = state::joined;
      setup_timer_.cancel();
      fleet_.setup_done();
    }
    break;
  case event::kind::error:
    if (state_ == state::joining) {
      std::string why = "join: server error ";
      why.append(ev.code).append(": ").append(ev.message);
      return fail(why);
    }
    worker_.stats().count_error(ev.code.empty() ? std::string_view{"(no code)"} : ev.code);
    break;
  case event::kind::invalid:
    worker_.stats().count_error("(unparsable frame)");
    break;
  case event::kind::other:
    break;
  }
}

void client_conn::on_msg(const event& ev, int64_t now) {
  thread_stats& st = worker_.stats();
  if (ev.has_seq) {
    if (seq_seen_ && ev.seq != last_seq_ + 1)
      st.order_violations.add();
    seq_seen_ = true;
    last_seq_ = ev.seq;
  }
  const auto due = read_stamp(ev.text);
  if (!due)
    return;
  const uint64_t latency = elapsed_since(*due, now);
  st.deliveries.add();
  st.latency.record(latency);
  const schedule& sched = worker_.sched();
  if (sched.measured(*due) && now <= sched.drain_end) {
    st.deliveries_measured.add();
    st.latency_measured.record(latency);
  }
}

void client_conn::on_ack(const event& ev, int64_t now) {
  if (!spec_.sender)
    return;
  const auto k = read_cid(ev.cid, fleet_.run_id());
  if (!k)
    return;
  const schedule& sched = worker_.sched();
  const int64_t due = sched.due(*spec_.sender, *k);
  if (sched.measured(due)) {
    thread_stats& st = worker_.stats();
    st.acks_measured.add();
    st.ack_latency.record(elapsed_since(due, now));
  }
}

void client_conn::send_due(int64_t due_ns, uint64_t k) {
  thread_stats& st = worker_.stats();
  if (state_ != state::joined) {
    st.send_skipped.add();
    return;
  }
  const options& o = fleet_.opts();
  write_stamp(text_, due_ns, o.size);
  write_cid(cid_, fleet_.run_id(), k);
  worker_.codec().encode_send(out_.push(), spec_.room, text_, cid_, o.ack);
  st.sent.add();
  if (worker_.sched().measured(due_ns)) {
    st.sent_measured.add();
    st.expected.add(spec_.room_members);
  }
  write();
}

void client_conn::write() {
  if (writing_ || out_.empty())
    return;
  writing_ = true;
  ws_.async_write(boost::asio::buffer(out_.front()),
                  [this](beast::error_code ec, std::size_t) { on_write(ec); });
}

void client_conn::on_write(beast::error_code ec) {
  writing_ = false;
  if (state_ == state::closed)
    return;
  if (ec)
    return fail("write", ec);
  out_.pop();
  if (close_after_write_) {
    close_after_write_ = false;
    return start_close();
  }
  write();
}

void client_conn::close() {
  switch (state_) {
  case state::joined:
    state_ = state::closing;
    out_.drop_all_but_front();
    if (writing_)
      close_after_write_ = true;
    else
      start_close();
    break;
  case state::closing:
    break;
  case state::closed:
    report_closed();
    break;
  default:
    state_ = state::closed;
    shut_socket();
    report_closed();
    break;
  }
}

void client_conn::start_close() {
  ws_.async_close(websocket::close_code::normal, [this](beast::error_code) {
    if (state_ == state::closed)
      return;
    state_ = state::closed;
    shut_socket();
    report_closed();
  });
}

void client_conn::fail(const char* stage, beast::error_code ec) {
  std::string why = stage;
  why.append(": ").append(ec.message());
  fail(why);
}

void client_conn::fail(const std::string& why) {
  const state was = state_;
  if (was == state::closed)
    return;
  state_ = state::closed;
  shut_socket();
  switch (was) {
  case state::connecting:
  case state::upgrading:
  case state::joining: {
    std::ostringstream msg;
    msg << spec_.user << " -> " << spec_.endpoint << ": " << why;
    fleet_.setup_failed(msg.str());
    break;
  }
  case state::joined:
    worker_.stats().disconnects.add();
    break;
  case state::closing:
    report_closed();
    break;
  default:
    break;
  }
}

void client_conn::shut_socket() {
  setup_timer_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);
}

void client_conn::report_closed() {
  if (close_reported_)
    return;
  close_reported_ = true;
  fleet_.conn_closed();
}

} // namespace chat::loadgen
