// Fuzz target: the handlers of replies to the node's own Redis commands. Bytes from a Redis
// server go through the reply reader (hiredis's parser with our bounded object hooks;
// inputs of odd size with a 2 KiB byte bound) in two pieces, as a connection reads them
// (redis_bytes.hpp), and every reply through each handler's shape check: a subscription
// connection's reading of pushes and answers
// (net/redis/subscription_reply) with each kind of command awaited, the sequencing
// script's answer (parse_sequenced), a room counter's (parse_last_seq), the presence
// script's query answers (live_nodes, online, node_users) and the connection handshake's
// (AUTH/SELECT). Nothing may crash or read out of bounds, and each answer must agree with
// the reply it came from (what it points at is inside the reply, a confirmation only for
// the command awaited, a seq only with a status that has one, and never past 2^63 - 1).
#include "redis_bytes.hpp"

#include "net/redis/link.hpp"
#include "net/redis/presence_replies.hpp"
#include "net/redis/room_log.hpp"
#include "net/redis/subscription_reply.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

using namespace chat::redis;

namespace {

void require(bool ok) {
  if (!ok)
    std::abort();
}

bool is_push_channel(const reply& r, const std::string* channel) {
  return r.is_array() && r.elements.size() >= 2 && channel == &r.elements[1].str;
}

void check_subscription(const reply& r, const awaited* head) {
  auto got = read_subscription_reply(r, head);
  require(!got.answers() || head != nullptr);
  require(got.event == sub_event::message || got.payload.empty());
  switch (got.event) {
  case sub_event::out_of_step: require(got.channel == nullptr); break;
  case sub_event::message:
    require(is_push_channel(r, got.channel) && r.elements.size() == 3);
    require(got.payload.data() == r.elements[2].str.data()
            && got.payload.size() == r.elements[2].str.size());
    break;
  case sub_event::ended:
    require(is_push_channel(r, got.channel));
    require(!head || head->command != sub_command::unsub || head->channel != *got.channel);
    break;
  case sub_event::refused:
  case sub_event::failed:
    require(r.is_error() && got.channel == nullptr);
    require((head->command == sub_command::sub) == (got.event == sub_event::refused));
    break;
  case sub_event::subscribed:
  case sub_event::unsubscribed:
    require(is_push_channel(r, got.channel) && head->channel == *got.channel);
    require(head->command
            == (got.event == sub_event::subscribed ? sub_command::sub : sub_command::unsub));
    break;
  case sub_event::pong: require(head->command == sub_command::ping); break;
  }
  if (r.is_error())
    require(head ? got.answers() : got.event == sub_event::out_of_step);
}

void check_subscriptions(const reply& r) {
  check_subscription(r, nullptr);
  std::vector<awaited> heads = {{sub_command::sub, "room"},
                                {sub_command::unsub, "room"},
                                {sub_command::ping, {}}};
  if (r.is_array() && r.elements.size() >= 2) { // awaiting the channel the reply names
    heads.push_back({sub_command::sub, r.elements[1].str});
    heads.push_back({sub_command::unsub, r.elements[1].str});
  }
  for (auto& h : heads)
    check_subscription(r, &h);
}

void check_sequenced(const reply& r) {
  for (auto fail : {failure::none, failure::lost}) {
    auto res = parse_sequenced(response{fail, r});
    require(res.fail == fail);
    switch (res.status) {
    case seq_status::sequenced:
    case seq_status::duplicate:
    case seq_status::conflict:
      require(res.seq > 0 && res.seq <= uint64_t(std::numeric_limits<int64_t>::max()));
      [[fallthrough]];
    case seq_status::needs_seed:
    case seq_status::needs_check: require(fail == failure::none && res.error.empty()); break;
    case seq_status::failed:
      // Redis's own error text may be empty; every other failure says what it was.
      require(!res.error.empty() || (fail == failure::none && r.is_error()));
      break;
    }
    auto last = parse_last_seq(response{fail, r});
    require(!last || (fail == failure::none
                      && *last <= uint64_t(std::numeric_limits<int64_t>::max())));
  }
}

void check_presence(const reply& r) {
  response ok{failure::none, r};
  response lost{failure::lost, r};
  require(!parse_live_nodes(lost) && !parse_online(lost, {}) && !parse_node_users(lost));
  if (auto nodes = parse_live_nodes(ok)) {
    require(r.is_array() && nodes->size() == r.elements.size());
    for (auto& n : *nodes)
      require(n.users <= uint64_t(std::numeric_limits<int64_t>::max())
              && n.connections <= uint64_t(std::numeric_limits<int64_t>::max()));
  }
  std::vector<std::string> users;
  if (r.is_array())
    for (size_t i = 0; i < r.elements.size(); ++i)
      users.push_back("u" + std::to_string(i));
  for (auto& asked : {users, std::vector<std::string>{"ann", "bob", "ann"}}) {
    auto online = parse_online(ok, asked);
    require(!online || (r.is_array() && r.elements.size() == asked.size()));
    if (!online)
      continue;
    for (size_t i = 0; i < asked.size(); ++i)
      if (asked[i] != "ann") // asked twice: the last answer counts
        require(online->at(asked[i])
                == (r.elements[i].type == reply::kind::integer && r.elements[i].integer == 1));
  }
  if (auto users_on = parse_node_users(ok))
    require(r.is_array() && users_on->size() <= r.elements.size() / 2);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reader rd(size % 2 ? 2048 : reader::default_max_reply_bytes); // odd sizes reach a bound
  for_each_reply(rd, data, size, [](const reply& r) {
    check_subscriptions(r);
    check_sequenced(r);
    check_presence(r);
    require(handshake_refusal(r).empty() != r.is_error());
  });
  return 0;
}
