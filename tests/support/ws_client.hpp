// A small synchronous WebSocket test client (Boost.Beast) with read timeouts, speaking
// the native protocol: send JSON text, receive frames parsed as JSON. Beast stays in the
// .cpp: most tests include this header, and Beast's headers alone cost seconds per file.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace chat::test {

// One received frame, parsed.
struct frame {
  std::string raw;
  std::shared_ptr<rapidjson::Document> doc;

  std::string op() const { return str("op"); }
  bool has(const char* key) const;
  std::string str(const char* key) const;
  uint64_t u64(const char* key) const;
  const rapidjson::Value& at(const char* key) const;
};

class ws_client {
public:
  using ms = std::chrono::milliseconds;

  // Connects to ws://127.0.0.1:port/ws?query and reads the hello frame. `fields` are
  // added to the upgrade request (Authorization, Origin, ...).
  ws_client(uint16_t port, const std::string& query,
            const std::vector<std::pair<std::string, std::string>>& fields = {});
  ~ws_client();

  void send(const std::string& text);
  void send_binary(const std::string& data);
  // The next frame; throws std::runtime_error on timeout or when the connection closed.
  frame next(ms timeout = ms(5000));
  // The next frame with this op, skipping others (events like presence/member).
  frame next_op(const std::string& op, ms timeout = ms(5000));
  // Joins `room` and returns the `joined` reply.
  frame join(const std::string& room, ms timeout = ms(5000));
  // True when the server closed the connection within `timeout` (frames before it skipped).
  bool closed_within(ms timeout, std::string* reason = nullptr);
  // The close code the server sent (after closed_within), 0 when none.
  uint16_t close_code() const;
  const frame& hello() const { return hello_; }
  void close();

private:
  struct link; // the socket, its io_context and read buffer
  std::unique_ptr<link> link_;
  frame hello_;
  bool open_ = false;
};

std::string join_frame(const std::string& room);
std::string send_frame(const std::string& room, const std::string& text, const std::string& cid,
                       const std::string& ack = "");

} // namespace chat::test
