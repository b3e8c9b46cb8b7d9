// JSON answers (see json_reply.hpp).
#include "net/json_reply.hpp"

#include "net/utf8.hpp"

namespace chat::net {

http_reply json_error(int status, std::string_view message) {
  return json_object_reply(status, [&](json_writer& w) {
    w.Key("error");
    w.String(sanitize_utf8(message));
  });
}

http_reply json_status_ok() {
  return json_object_reply(200, [](json_writer& w) {
    w.Key("status");
    w.String("ok");
  });
}

} // namespace chat::net
