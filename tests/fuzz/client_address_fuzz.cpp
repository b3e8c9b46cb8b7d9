// Fuzz target: the request fields identity reads besides the token — X-Forwarded-For
// (trusted_proxies::client_of, from a trusted and from an untrusted peer) and Origin / Host
// (allowed_origins::allows, with an empty list, a list and "*"). The input is split at
// '\n' into field values: X-Forwarded-For, X-Forwarded-For, Origin, Host. Whatever they
// hold: the client is a valid address (the peer itself when the peer is not trusted), and
// the origin answer is the same as asked twice; never a crash.
#include "net/allowed_origins.hpp"
#include "net/client_address.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace chat::net;

namespace {

void require(bool ok) {
  if (!ok)
    std::abort();
}

bool field_value_ok(std::string_view v) {
  return v.find_first_of("\r\n") == std::string_view::npos && v.find('\0') == std::string_view::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const trusted_proxies proxies({"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"});
  static const allowed_origins none(std::vector<std::string>{});
  static const allowed_origins listed({"https://chat.example.com", "http://b:8080"});
  static const allowed_origins any({"*"});
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  for (size_t at = 0; parts.size() < 4;) {
    auto nl = in.find('\n', at);
    parts.push_back(in.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
    if (nl == std::string_view::npos)
      break;
    at = nl + 1;
  }
  http_request req;
  const char* names[] = {"X-Forwarded-For", "X-Forwarded-For", "Origin", "Host"};
  for (size_t i = 0; i < parts.size(); ++i)
    if (field_value_ok(parts[i]))
      req.insert(names[i], std::string(parts[i]));
  auto trusted = boost::asio::ip::make_address("10.1.2.3");
  auto stranger = boost::asio::ip::make_address("192.0.2.7");
  boost::system::error_code ec;
  boost::asio::ip::make_address(proxies.client_of(trusted, req), ec);
  require(!ec);
  require(proxies.client_of(stranger, req) == "192.0.2.7");
  for (auto* o : {&none, &listed, &any})
    require(o->allows(req) == o->allows(req));
  require(any.allows(req) || req.count(http::field::origin) > 1);
  return 0;
}
