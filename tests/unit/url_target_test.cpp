// Request targets decoded with Boost.URL: percent escapes, '+', malformed escapes, repeated
// keys, and text that is not UTF-8.
#include "net/url_target.hpp"
#include "net/utf8.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;

namespace {

url_target parsed(const std::string& target) {
  std::string error;
  auto t = parse_target(target, error);
  INFO(target << ": " << error);
  REQUIRE(t);
  CHECK(error.empty());
  return *t;
}

std::string refused(const std::string& target) {
  std::string error;
  auto t = parse_target(target, error);
  INFO(target);
  CHECK_FALSE(t);
  CHECK_FALSE(error.empty());
  return error;
}

std::string param(const std::string& target, const std::string& key) {
  auto p = find_single_param(parsed(target), key);
  REQUIRE(p.error.empty());
  return p.value;
}

} // namespace

TEST_CASE("paths keep their escapes for routing and are decoded per segment") {
  auto t = parsed("/admin/users/a%20b%2Fc/kick?x=1");
  CHECK(t.path == "/admin/users/a%20b%2Fc/kick");
  REQUIRE(t.segments.size() == 4);
  CHECK(t.segments[2] == "a b/c"); // an escaped '/' stays inside its segment
  CHECK(parsed("/ws").segments == std::vector<std::string>{"ws"});
  CHECK(parsed("/").segments.empty());
  CHECK(parsed("/a/").segments == std::vector<std::string>{"a", ""});
  CHECK(parsed("/r%C3%A9sum%C3%A9").segments[0] == "r\xC3\xA9sum\xC3\xA9");
}

TEST_CASE("query values: percent escapes, '+' as space, absent and empty") {
  CHECK(param("/ws?user=al%69ce", "user") == "alice");
  CHECK(param("/ws?user=a+b", "user") == "a b");
  CHECK(param("/ws?user=a%2Bb", "user") == "a+b");
  CHECK(param("/ws?text=%26%3D%3F%23", "text") == "&=?#");
  CHECK(param("/ws?user=alice&ack=persisted", "ack") == "persisted");
  CHECK(param("/ws?us%65r=bob", "user") == "bob"); // keys are decoded too
  CHECK(param("/ws?user=", "user").empty());
  CHECK(find_single_param(parsed("/ws?user="), "user").found);
  CHECK(param("/ws?user", "user").empty());
  auto absent = find_single_param(parsed("/ws?other=1"), "user");
  CHECK_FALSE(absent.found);
  CHECK(absent.value.empty());
  CHECK(absent.error.empty());
  CHECK_FALSE(find_single_param(parsed("/ws"), "user").found);
  // An '=' inside a value belongs to the value.
  CHECK(param("/ws?token=a=b", "token") == "a=b");
}

TEST_CASE("a repeated key is refused, not resolved by position") {
  auto t = parsed("/ws?user=alice&user=mallory");
  auto p = find_single_param(t, "user");
  CHECK(p.error == "query parameter 'user' given more than once");
  CHECK(p.value.empty());
  // Other keys of the same request are unaffected.
  CHECK(find_single_param(parsed("/ws?user=a&ack=seq&user=b"), "ack").value == "seq");
  CHECK_FALSE(find_single_param(parsed("/ws?user=a&us%65r=b"), "user").error.empty());
}

TEST_CASE("malformed targets and escapes are refused") {
  CHECK(refused("/ws?user=%zz").find("malformed request target") == 0);
  refused("/ws?user=%4");
  refused("/ws?user=%");
  refused("/admin/rooms/%zz");
  refused("/a b");
  refused("http://example.com/ws"); // absolute form: proxies only
  refused("*");
  refused("ws");
  refused("");
  refused("/ws?user=\xC3\xA9"); // raw non-ASCII byte
  refused("/ws#fragment");
}

TEST_CASE("decoded text must be UTF-8 without NUL") {
  CHECK(refused("/ws?user=%C3%28") == "query parameter is not valid UTF-8 text");
  refused("/ws?user=%FF");
  refused("/ws?user=%ED%A0%80");     // a surrogate
  refused("/ws?user=%C0%AF");        // overlong '/'
  refused("/ws?user=%F4%90%80%80");  // above U+10FFFF
  refused("/ws?user=a%00b");
  refused("/ws?%FF=1");
  CHECK(refused("/admin/users/%FF/kick") == "request path is not valid UTF-8 text");
  CHECK(param("/ws?user=%F0%9F%98%80", "user") == "\xF0\x9F\x98\x80");
}

TEST_CASE("UTF-8 validation and repair") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain"));
  CHECK(valid_utf8("\xE2\x82\xAC \xF0\x90\x8D\x88"));
  CHECK_FALSE(valid_utf8("\xE2\x82"));      // truncated
  CHECK_FALSE(valid_utf8("\x80"));          // lone continuation
  CHECK_FALSE(valid_utf8("\xE0\x80\xAF"));  // overlong
  CHECK(sanitize_utf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(sanitize_utf8("ok\xE2\x82") == "ok\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(valid_utf8(sanitize_utf8("\xC0\xAF\xED\xA0\x80")));
}
