// EVALSHA formatting and its EVAL rewrite for NOSCRIPT answers.
#include "net/redis/script.hpp"

#include "net/redis/resp.hpp"

#include <openssl/sha.h>

namespace chat::redis {

script::script(std::string text) : text_(std::move(text)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text_.data()), text_.size(), digest);
  static const char hex[] = "0123456789abcdef";
  for (unsigned char b : digest) {
    sha_ += hex[b >> 4];
    sha_ += hex[b & 15];
  }
}

void script::append_evalsha(std::string& out, const std::vector<std::string_view>& keys,
                            const std::vector<std::string_view>& args) const {
  append_array_header(out, 3 + keys.size() + args.size());
  append_bulk(out, "EVALSHA");
  append_bulk(out, sha_);
  append_bulk(out, std::to_string(keys.size()));
  for (auto k : keys)
    append_bulk(out, k);
  for (auto a : args)
    append_bulk(out, a);
}

std::string script::to_eval(const std::string& evalsha) const {
  // "*N\r\n" + "$7\r\nEVALSHA\r\n" + "$40\r\n<sha>\r\n" + the rest, unchanged.
  auto header_end = evalsha.find("\r\n");
  if (header_end == std::string::npos)
    return {};
  std::string middle = "$7\r\nEVALSHA\r\n$40\r\n" + sha_ + "\r\n";
  size_t rest = header_end + 2 + middle.size();
  if (evalsha.compare(header_end + 2, middle.size(), middle) != 0)
    return {};
  std::string out = evalsha.substr(0, header_end + 2);
  append_bulk(out, "EVAL");
  append_bulk(out, text_);
  out.append(evalsha, rest, std::string::npos);
  return out;
}

} // namespace chat::redis
