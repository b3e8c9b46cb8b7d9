// What a subscription connection makes of one reply, given the oldest command it sent that
// has no reply yet: a push (a published message, the server ending a subscription), the
// answer to that command (a confirmation, a pong, an error), or a reply out of step with
// what was sent. No I/O: the subscriber's connections act on it, and
// tests/fuzz/redis_handlers_fuzz.cpp feeds it every reply shape.
#pragma once

#include "net/redis/resp.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::redis {

// The commands a subscription connection sends: (S)SUBSCRIBE, (S)UNSUBSCRIBE and PING.
enum class sub_command : uint8_t { sub, unsub, ping };

// The oldest command without its reply.
struct awaited {
  sub_command command;
  std::string_view channel; // sub, unsub
};

enum class sub_event : uint8_t {
  out_of_step,  // answers nothing that was sent: the connection's state is unknown
  message,      // a message published on `channel` (`payload`); answers nothing
  ended,        // the server ended `channel`'s subscription (slot moved); answers nothing
  refused,      // an error answering the awaited (S)SUBSCRIBE
  failed,       // an error answering another awaited command (the reply's text says why)
  subscribed,   // the awaited (S)SUBSCRIBE is in place
  unsubscribed, // the awaited (S)UNSUBSCRIBE is done
  pong,         // the awaited PING's answer
};

struct sub_reply {
  sub_event event = sub_event::out_of_step;
  const std::string* channel = nullptr; // message, ended, subscribed, unsubscribed: in the reply
  std::string_view payload;             // message: in the reply
  // The reply answers the awaited command (refused to pong): it is done.
  bool answers() const { return event >= sub_event::refused; }
};

// `head`: the awaited command, nullptr when none is. The result points into `r`.
sub_reply read_subscription_reply(const reply& r, const awaited* head);

} // namespace chat::redis
