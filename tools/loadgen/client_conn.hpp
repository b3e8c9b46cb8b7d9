// One load-generator user: a WebSocket connection that connects, upgrades, joins its room,
// then sends on the pacer's schedule and measures every room message it receives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "frame_queue.hpp"

namespace chat::loadgen {

class fleet;
class worker;
struct event;

struct conn_spec {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string host; // Host header, "host:port"
  std::string user;
  std::string room;
  uint64_t room_members = 0;
  std::optional<uint64_t> sender; // its sender number when this connection sends
};

// Every member function runs on the owning worker's thread.
class client_conn {
public:
  client_conn(worker& owner, fleet& group, conn_spec spec);
  client_conn(const client_conn&) = delete;
  client_conn& operator=(const client_conn&) = delete;

  const conn_spec& spec() const { return spec_; }

  // Connects, upgrades and joins; reports the outcome to the fleet.
  void start();
  // Queues the k-th message of this sender, due at due_ns.
  void send_due(int64_t due_ns, uint64_t k);
  // Closes gracefully (or at once when not joined); reports to the fleet when closed.
  void close();

private:
  enum class state { idle, connecting, upgrading, joining, joined, closing, closed };

  void on_connect(boost::beast::error_code ec);
  void on_upgrade(boost::beast::error_code ec);
  void read();
  void on_read(boost::beast::error_code ec);
  void on_frame(std::string_view frame, int64_t now);
  void on_msg(const event& ev, int64_t now);
  void on_ack(const event& ev, int64_t now);
  void write();
  void on_write(boost::beast::error_code ec);
  void start_close();
  void fail(const char* stage, boost::beast::error_code ec);
  void fail(const std::string& why);
  void shut_socket();
  void report_closed();
  bool setting_up() const;

  worker& worker_;
  fleet& fleet_;
  conn_spec spec_;
  std::string target_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::beast::websocket::response_type upgrade_response_;
  boost::asio::steady_timer setup_timer_;
  boost::beast::flat_buffer read_buffer_;
  frame_queue out_;
  std::string text_;
  std::string cid_;
  state state_ = state::idle;
  bool writing_ = false;
  bool close_after_write_ = false;
  bool close_reported_ = false;
  bool seq_seen_ = false;
  uint64_t last_seq_ = 0;
};

} // namespace chat::loadgen
