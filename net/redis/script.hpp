// A Lua script run with EVALSHA (the SHA-1 is computed here, at construction), re-sent
// with EVAL when a server answers NOSCRIPT (after a restart or failover its cache is
// empty). The client also loads every script on each new connection before other commands.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chat::redis {

class script {
public:
  explicit script(std::string text);
  const std::string& text() const { return text_; }
  const std::string& sha() const { return sha_; }

  // Appends EVALSHA sha numkeys keys... args...
  void append_evalsha(std::string& out, const std::vector<std::string_view>& keys,
                      const std::vector<std::string_view>& args) const;
  // The same command as EVAL with the script's text; "" when `evalsha` is not one of ours.
  std::string to_eval(const std::string& evalsha) const;

private:
  std::string text_, sha_;
};

} // namespace chat::redis
