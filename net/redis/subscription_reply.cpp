// A subscription connection's replies, shape first (see subscription_reply.hpp). A push is
// an array whose first two elements are strings: the kind and the channel.
#include "net/redis/subscription_reply.hpp"

namespace chat::redis {

namespace {

sub_reply event(sub_event e, const std::string* channel = nullptr) {
  sub_reply out;
  out.event = e;
  out.channel = channel;
  return out;
}

bool awaits(const awaited* head, sub_command c) { return head && head->command == c; }

} // namespace

sub_reply read_subscription_reply(const reply& r, const awaited* head) {
  if (r.is_error()) {
    if (!head)
      return event(sub_event::out_of_step);
    return event(head->command == sub_command::sub ? sub_event::refused : sub_event::failed);
  }
  if (r.type == reply::kind::status) // +PONG when nothing is subscribed
    return event(awaits(head, sub_command::ping) ? sub_event::pong : sub_event::out_of_step);
  if (!r.is_array() || r.elements.size() < 2 || !r.elements[0].is_string()
      || !r.elements[1].is_string())
    return event(sub_event::out_of_step);
  const std::string& what = r.elements[0].str;
  const std::string* name = &r.elements[1].str;
  if (what == "message" || what == "smessage") {
    if (r.elements.size() != 3 || !r.elements[2].is_string())
      return event(sub_event::out_of_step);
    auto out = event(sub_event::message, name);
    out.payload = r.elements[2].str;
    return out;
  }
  if (what == "subscribe" || what == "ssubscribe") {
    if (!awaits(head, sub_command::sub) || head->channel != *name)
      return event(sub_event::out_of_step);
    return event(sub_event::subscribed, name);
  }
  if (what == "unsubscribe" || what == "sunsubscribe") {
    if (awaits(head, sub_command::unsub) && head->channel == *name)
      return event(sub_event::unsubscribed, name); // the confirmation of ours
    return event(sub_event::ended, name);
  }
  if (what == "pong")
    return event(awaits(head, sub_command::ping) ? sub_event::pong : sub_event::out_of_step);
  return event(sub_event::out_of_step);
}

} // namespace chat::redis
