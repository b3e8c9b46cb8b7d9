// Probes of a running node for end-to-end tests.
#include "support/node_probes.hpp"

#include "support/http_get.hpp"
#include "support/node_process.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace chat::test {

double metric(uint16_t admin_port, const std::string& series) {
  auto text = http_get(admin_port, "/metrics").body;
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos)
    throw std::runtime_error("no metric " + series);
  return std::stod(text.substr(pos + series.size() + 2));
}

uint64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6));
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

std::vector<std::pair<uint64_t, std::string>> history_of(ws_client& c, const std::string& room) {
  std::vector<std::pair<uint64_t, std::string>> out;
  uint64_t before = 0;
  for (;;) {
    c.send(R"({"op":"history","room":")" + room + R"(","limit":500)"
           + (before ? ",\"before\":" + std::to_string(before) : std::string()) + "}");
    auto page = c.next_op("history", std::chrono::milliseconds(30000));
    auto& msgs = page.at("messages");
    if (msgs.Size() == 0)
      return out;
    std::vector<std::pair<uint64_t, std::string>> chunk;
    for (auto& m : msgs.GetArray())
      chunk.emplace_back(m["seq"].GetUint64(), m["text"].GetString());
    out.insert(out.begin(), chunk.begin(), chunk.end());
    before = chunk.front().first;
  }
}

std::string key_file(const std::string& dir, uint32_t id) {
  std::string line;
  if (run_chatd({"--gen-key=" + std::to_string(id)}, line) != 0)
    throw std::runtime_error("chatd --gen-key failed: " + line);
  auto path = dir + "/key" + std::to_string(id);
  std::ofstream(path) << line;
  return path;
}

std::string sqlite_query(const std::string& db, const std::string& sql) {
  auto cmd = "sqlite3 " + db + " \"" + sql + "\" 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    throw std::runtime_error("cannot run sqlite3");
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  if (pclose(p) != 0)
    throw std::runtime_error("sqlite3 failed: " + out);
  return out;
}

} // namespace chat::test
