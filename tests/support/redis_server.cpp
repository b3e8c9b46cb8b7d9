// fork/exec of redis-server (and redis-cli --cluster create), readiness by PING, and a
// blocking hiredis connection for the tests' own administrative commands.
#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace chat::test {

namespace {

using clock_type = std::chrono::steady_clock;

redis::reply convert(const redisReply* r) {
  redis::reply out;
  switch (r->type) {
  case REDIS_REPLY_STRING: out.type = redis::reply::kind::string; break;
  case REDIS_REPLY_STATUS: out.type = redis::reply::kind::status; break;
  case REDIS_REPLY_ERROR: out.type = redis::reply::kind::error; break;
  case REDIS_REPLY_INTEGER: out.type = redis::reply::kind::integer; break;
  case REDIS_REPLY_ARRAY: out.type = redis::reply::kind::array; break;
  default: out.type = redis::reply::kind::nil; break;
  }
  if (r->str)
    out.str.assign(r->str, r->len);
  out.integer = r->integer;
  for (size_t i = 0; i < r->elements; ++i)
    out.elements.push_back(convert(r->element[i]));
  return out;
}

bool port_free(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the test process
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy)
      args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string make_dir() {
  char tmpl[] = "/tmp/chat-redis-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

std::string cluster_info_field(uint16_t port, const std::string& field) {
  auto info = redis_command(port, {"CLUSTER", "INFO"});
  std::istringstream in(info.str);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      auto v = line.substr(field.size() + 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n'))
        v.pop_back();
      return v;
    }
  }
  return {};
}

} // namespace

namespace {

redis::settings quick() {
  redis::settings s;
  s.connect_timeout = std::chrono::milliseconds(500);
  s.command_timeout = std::chrono::milliseconds(2000);
  s.unavailable_timeout = std::chrono::milliseconds(1000);
  s.reconnect_min = std::chrono::milliseconds(10);
  s.reconnect_max = std::chrono::milliseconds(200);
  return s;
}

} // namespace

redis::settings test_settings(const redis_server& server) {
  auto s = quick();
  s.seeds = {{"127.0.0.1", server.port()}};
  return s;
}

redis::settings test_settings(const redis_cluster& cluster) {
  auto s = quick();
  s.cluster = true;
  for (size_t i = 0; i < cluster.size(); ++i)
    s.seeds.push_back({"127.0.0.1", cluster.node(i).port()});
  return s;
}

uint16_t free_port(uint16_t below, uint16_t plus) {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, int(below) - 1);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto p = uint16_t(pick(rng));
    if (port_free(p) && (plus == 0 || (p + plus <= 65535 && port_free(uint16_t(p + plus)))))
      return p;
  }
  throw std::runtime_error("no free port");
}

redis::reply redis_command(uint16_t port, const std::vector<std::string>& args) {
  timeval tv{5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!c || c->err) {
    std::string err = c ? c->errstr : "out of memory";
    if (c)
      redisFree(c);
    throw std::runtime_error("redis " + std::to_string(port) + ": " + err);
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, int(argv.size()), argv.data(),
                                                      lens.data()));
  if (!r) {
    std::string err = c->errstr;
    redisFree(c);
    throw std::runtime_error("redis " + std::to_string(port) + ": " + err);
  }
  auto out = convert(r);
  freeReplyObject(r);
  redisFree(c);
  return out;
}

redis_server::redis_server(std::vector<std::string> extra, uint16_t port)
  : extra_(std::move(extra)), dir_(make_dir()), port_(port) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (port == 0)
      port_ = free_port();
    if (launch())
      return;
    if (port != 0)
      break;
  }
  throw std::runtime_error("redis-server did not start: " + log_tail());
}

redis_server::~redis_server() {
  kill9();
  if (!std::getenv("CHAT_TEST_KEEP")) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool redis_server::launch() {
  std::vector<std::string> argv = {"redis-server", "--port", std::to_string(port_),
                                   "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                   "--dir", dir_, "--protected-mode", "no", "--daemonize", "no"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  pid_ = spawn(argv, dir_ + "/redis.log");
  auto deadline = clock_type::now() + std::chrono::seconds(10);
  while (clock_type::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false; // exited: most likely the port was taken
    }
    try {
      if (command({"PING"}).str == "PONG")
        return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill9();
  return false;
}

void redis_server::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void redis_server::restart() {
  kill9();
  for (int attempt = 0; attempt < 50; ++attempt) { // the port may linger for a moment
    if (launch())
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("redis-server did not restart: " + log_tail());
}

std::string redis_server::log_tail() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream s;
  s << in.rdbuf();
  auto text = s.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

redis_cluster::redis_cluster() {
  for (int i = 0; i < 3; ++i) {
    auto port = free_port(55536, 10000);
    // Without full coverage a dead master takes only its own slots away (the rest of the
    // cluster keeps answering), which is what the tests that kill one want to see.
    nodes_.push_back(std::make_unique<redis_server>(
      std::vector<std::string>{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                               "--cluster-node-timeout", "2000",
                               "--cluster-require-full-coverage", "no"},
      port));
  }
  std::vector<std::string> argv = {"redis-cli", "--cluster", "create"};
  for (auto& n : nodes_)
    argv.push_back("127.0.0.1:" + std::to_string(n->port()));
  argv.insert(argv.end(), {"--cluster-replicas", "0", "--cluster-yes"});
  auto log = nodes_[0]->dir() + "/create.log";
  pid_t pid = spawn(argv, log);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("redis-cli --cluster create failed (see " + log + ")");
  wait_healthy("the cluster did not reach cluster_state:ok");
}

void redis_cluster::wait_healthy(const char* what) const {
  auto deadline = clock_type::now() + std::chrono::seconds(20);
  while (!healthy()) {
    if (clock_type::now() > deadline)
      throw std::runtime_error(what);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void redis_cluster::restart(size_t i) {
  nodes_[i]->restart(); // same directory: nodes.conf (identity, epochs, slots) is still there
  wait_healthy("a restarted master did not rejoin the cluster");
}

redis_cluster::~redis_cluster() = default;

std::string redis_cluster::uri() const {
  std::string u = "redis+cluster://";
  for (size_t i = 0; i < nodes_.size(); ++i)
    u += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(nodes_[i]->port());
  return u;
}

std::string redis_cluster::node_id(size_t i) const {
  return redis_command(nodes_[i]->port(), {"CLUSTER", "MYID"}).str;
}

size_t redis_cluster::owner_of(int slot) const {
  auto slots = redis_command(nodes_[0]->port(), {"CLUSTER", "SLOTS"});
  for (auto& range : slots.elements) {
    if (range.elements.size() < 3 || slot < range.elements[0].integer
        || slot > range.elements[1].integer)
      continue;
    auto port = range.elements[2].elements[1].integer;
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i]->port() == port)
        return i;
  }
  throw std::runtime_error("slot " + std::to_string(slot) + " has no owner");
}

bool redis_cluster::healthy() const {
  try {
    std::string first;
    for (auto& n : nodes_) {
      if (cluster_info_field(n->port(), "cluster_state") != "ok"
          || cluster_info_field(n->port(), "cluster_slots_assigned") != "16384"
          || cluster_info_field(n->port(), "cluster_known_nodes") != "3")
        return false;
      // Every node must agree on the owners (a moved slot is announced by gossip).
      auto slots = redis_command(n->port(), {"CLUSTER", "SLOTS"});
      std::string view;
      for (auto& r : slots.elements)
        view += std::to_string(r.elements[0].integer) + "-" + std::to_string(r.elements[1].integer)
                + "@" + std::to_string(r.elements[2].elements[1].integer) + ";";
      std::sort(view.begin(), view.end());
      if (first.empty())
        first = view;
      else if (view != first)
        return false;
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

void must(const redis::reply& r, const char* what) {
  if (r.is_error())
    throw std::runtime_error(std::string(what) + ": " + r.str);
}

} // namespace

void redis_cluster::begin_move(int slot, size_t to) {
  size_t from = owner_of(slot);
  auto s = std::to_string(slot);
  must(node(to).command({"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(from)}), "IMPORTING");
  must(node(from).command({"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)}), "MIGRATING");
}

void redis_cluster::finish_move(int slot, size_t to) {
  size_t from = owner_of(slot);
  auto s = std::to_string(slot);
  while (true) {
    auto keys = node(from).command({"CLUSTER", "GETKEYSINSLOT", s, "100"});
    if (keys.elements.empty())
      break;
    std::vector<std::string> migrate = {"MIGRATE", "127.0.0.1", std::to_string(node(to).port()),
                                        "", "0", "5000", "KEYS"};
    for (auto& k : keys.elements)
      migrate.push_back(k.str);
    must(node(from).command(migrate), "MIGRATE");
  }
  auto to_id = node_id(to);
  // The new owner first, then the old one (which then tells its subscribers), then the rest.
  must(node(to).command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE");
  must(node(from).command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE");
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (i != to && i != from)
      must(node(i).command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE");
  auto deadline = clock_type::now() + std::chrono::seconds(20);
  while (!healthy() || owner_of(slot) != to) {
    if (clock_type::now() > deadline)
      throw std::runtime_error("slot move did not settle");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void redis_cluster::move_slot(int slot, size_t to) {
  if (owner_of(slot) == to)
    return;
  begin_move(slot, to);
  finish_move(slot, to);
}

} // namespace chat::test
