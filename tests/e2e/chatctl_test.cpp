// End-to-end: chatctl against a real chatd with real WebSocket clients: the --json views
// (rooms, room, users, conns, actors, status) agree with what the test connected, kick and
// close drop exactly the sessions named, the human tables are aligned, errors give one
// line and the documented exit code, and `top` runs in a real terminal (tmux) until 'q'.
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#ifndef CHATCTL_BINARY
#error "CHATCTL_BINARY must name the chatctl executable (tests/CMakeLists.txt)"
#endif

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

struct run_result {
  int code = -1; // exit code; -1 when killed (timeout) or signalled
  std::string out;
  std::string err;
};

// Runs `argv` (PATH lookup) to completion with stdout and stderr captured; killed after
// `timeout`.
run_result run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 10s) {
  int out[2], err[2];
  // Close-on-exec, so only fds 1 and 2 of this child hold the write ends (a daemon it
  // starts, like the tmux server, closes those and does not keep the pipes open).
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(pipe2(err, O_CLOEXEC) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    unsetenv("TMUX");
    unsetenv("CHATCTL_ADMIN");
    std::vector<std::string> copy = argv;
    std::vector<char*> args;
    for (auto& a : copy)
      args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  run_result r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (poll(fds, 2, int(left.count())) <= 0)
      continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char buf[4096];
      auto n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, size_t(n));
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0)
      close(f.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  r.code = (!killed && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> ctl_args(uint16_t admin_port, std::vector<std::string> args) {
  std::vector<std::string> full = {CHATCTL_BINARY, "--admin",
                                   "127.0.0.1:" + std::to_string(admin_port)};
  full.insert(full.end(), args.begin(), args.end());
  return full;
}

run_result chatctl(uint16_t admin_port, std::vector<std::string> args) {
  return run(ctl_args(admin_port, std::move(args)));
}

// Runs a --json subcommand and parses its output; a failing run or bad JSON fails the test.
std::shared_ptr<rapidjson::Document> ctl_json(uint16_t admin_port, std::vector<std::string> args) {
  args.push_back("--json");
  auto r = chatctl(admin_port, args);
  INFO("chatctl " << args[0] << " --json: exit " << r.code << "\nstdout: " << r.out
                  << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  auto doc = std::make_shared<rapidjson::Document>();
  doc->Parse(r.out.c_str(), r.out.size());
  REQUIRE_FALSE(doc->HasParseError());
  REQUIRE(doc->IsObject());
  return doc;
}

// Repeats `args` --json until `done` accepts the answer or `timeout` passes; returns the
// last answer either way (the caller's CHECKs then report what was seen).
std::shared_ptr<rapidjson::Document>
poll_json(uint16_t admin_port, const std::vector<std::string>& args,
          const std::function<bool(const rapidjson::Document&)>& done,
          std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto doc = ctl_json(admin_port, args);
    if (done(*doc) || std::chrono::steady_clock::now() >= deadline)
      return doc;
    std::this_thread::sleep_for(50ms);
  }
}

// Ids may be strings or integers in the admin JSON; compare them as text.
std::string id_text(const rapidjson::Value& v) {
  if (v.IsString())
    return v.GetString();
  if (v.IsUint64())
    return std::to_string(v.GetUint64());
  return "<not an id>";
}

const rapidjson::Value& list(const rapidjson::Document& doc, const char* key) {
  REQUIRE(doc.HasMember(key));
  REQUIRE(doc[key].IsArray());
  return doc[key];
}

// user -> connection count, from /admin/users.
std::map<std::string, uint64_t> users_of(const rapidjson::Document& doc) {
  std::map<std::string, uint64_t> out;
  for (auto& u : list(doc, "users").GetArray())
    out[u["user"].GetString()] = u["connections"].GetUint64();
  return out;
}

// room id -> member count, from /admin/rooms, in the order received.
std::vector<std::pair<std::string, uint64_t>> rooms_of(const rapidjson::Document& doc) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (auto& r : list(doc, "rooms").GetArray())
    out.emplace_back(id_text(r["id"]), r["members"].GetUint64());
  return out;
}

// Sorted "user:room1,room2" lines of /admin/connections (rooms sorted too).
std::vector<std::string> conn_lines(const rapidjson::Document& doc) {
  std::vector<std::string> out;
  for (auto& c : list(doc, "connections").GetArray()) {
    std::vector<std::string> rooms;
    for (auto& r : c["rooms"].GetArray())
      rooms.push_back(r.GetString());
    std::sort(rooms.begin(), rooms.end());
    std::string line = std::string(c["user"].GetString()) + ":";
    for (auto& r : rooms)
      line += (line.back() == ':' ? "" : ",") + r;
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Sends `n` messages to `room` and waits for their acks.
void say(ws_client& c, const std::string& room, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i)
    c.send(send_frame(room, tag + " " + std::to_string(i), tag + std::to_string(i)));
  for (int i = 0; i < n; ++i)
    c.next_op("ack");
}

// Six connections of five users in three rooms with known members and message counts:
//   alpha: alice#1, bob, carol   (5 messages)
//   beta:  alice#1, dave         (4 messages)
//   gamma: erin, alice#2         (1 message)
struct chat_scene {
  node_process node{{"--storage.backend=memory"}};
  ws_client alice{node.port(), "user=alice"};
  ws_client bob{node.port(), "user=bob"};
  ws_client carol{node.port(), "user=carol"};
  ws_client dave{node.port(), "user=dave"};
  ws_client erin{node.port(), "user=erin"};
  ws_client alice2{node.port(), "user=alice"};

  chat_scene() {
    alice.join("alpha");
    alice.join("beta");
    bob.join("alpha");
    carol.join("alpha");
    dave.join("beta");
    erin.join("gamma");
    alice2.join("gamma");
    say(alice, "alpha", 3, "a");
    say(bob, "alpha", 2, "b");
    say(dave, "beta", 4, "d");
    say(erin, "gamma", 1, "e");
  }

  uint16_t admin() const { return node.admin_port(); }

  // Waits until the node reports all six connections (sessions register asynchronously).
  void settle() {
    auto doc = poll_json(admin(), {"conns"}, [](const rapidjson::Document& d) {
      return d.HasMember("connections") && d["connections"].IsArray()
             && d["connections"].Size() == 6;
    });
    REQUIRE(list(*doc, "connections").Size() == 6);
  }
};

const std::vector<std::pair<std::string, uint64_t>> scene_rooms = {
    {"alpha", 3}, {"beta", 2}, {"gamma", 2}};

// Runs a command in a detached tmux session on a private tmux server (its socket in a
// temporary directory); kills the server at the end.
class tmux_session {
public:
  tmux_session(const std::string& command, int width, int height)
    : socket_(make_temp_dir() + "/tmux.sock"), name_("top") {
    auto r = run({"tmux", "-S", socket_, "-f", "/dev/null", "new-session", "-d", "-s", name_,
                  "-x", std::to_string(width), "-y", std::to_string(height), command});
    if (r.code != 0)
      stop();
    INFO("tmux new-session: " << r.err);
    REQUIRE(r.code == 0);
  }
  ~tmux_session() { stop(); }

  std::string capture() {
    return run({"tmux", "-S", socket_, "capture-pane", "-p", "-t", name_}).out;
  }
  bool alive() { return run({"tmux", "-S", socket_, "has-session", "-t", name_}).code == 0; }
  void keys(const std::string& k) { run({"tmux", "-S", socket_, "send-keys", "-t", name_, k}); }

  // Polls the screen until `pred` holds or `timeout` passes; returns the last screen.
  std::string wait_screen(const std::function<bool(const std::string&)>& pred,
                          std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto screen = capture();
      if (pred(screen) || std::chrono::steady_clock::now() >= deadline)
        return screen;
      std::this_thread::sleep_for(100ms);
    }
  }

  bool ends_within(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!alive())
        return true;
      std::this_thread::sleep_for(50ms);
    }
    return !alive();
  }

private:
  void stop() {
    run({"tmux", "-S", socket_, "kill-server"});
    unlink(socket_.c_str());
  }

  std::string socket_;
  std::string name_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Words of a line with the column where each one ends (one past its last character).
std::vector<std::pair<std::string, size_t>> words_with_ends(const std::string& line) {
  std::vector<std::pair<std::string, size_t>> out;
  std::istringstream in(line);
  std::string w;
  size_t pos = 0;
  while (in >> w) {
    pos = line.find(w, pos);
    out.emplace_back(w, pos + w.size());
    pos += w.size();
  }
  return out;
}

} // namespace

TEST_CASE("chatctl --json views agree with the clients the test connected") {
  chat_scene s;
  s.settle();

  SECTION("rooms lists exactly the three rooms, sorted, with members and message counts") {
    auto doc = poll_json(s.admin(), {"rooms"}, [](const rapidjson::Document& d) {
      return rooms_of(d) == scene_rooms;
    });
    CHECK(rooms_of(*doc) == scene_rooms);
    std::map<std::string, uint64_t> sent = {{"alpha", 5}, {"beta", 4}, {"gamma", 1}};
    for (auto& r : list(*doc, "rooms").GetArray()) {
      auto id = id_text(r["id"]);
      INFO("room " << id);
      CHECK(r["messages"].GetUint64() == sent[id]);
      CHECK(r["last_seq"].GetUint64() == sent[id]);
      CHECK(r["rate"].IsNumber());
      CHECK(r["mailbox"].IsUint64());
    }
  }

  SECTION("room ID lists the members with their connections") {
    auto doc = ctl_json(s.admin(), {"room", "alpha"});
    CHECK(id_text((*doc)["id"]) == "alpha");
    std::multiset<std::string> users;
    for (auto& m : list(*doc, "members").GetArray()) {
      users.insert(m["user"].GetString());
      CHECK(id_text(m["conn"]) != "<not an id>");
    }
    CHECK(users == std::multiset<std::string>{"alice", "bob", "carol"});
    CHECK((*doc)["last_seq"].GetUint64() == 5);
  }

  SECTION("users and conns agree with the connected clients") {
    auto users = ctl_json(s.admin(), {"users"});
    std::map<std::string, uint64_t> expected = {
        {"alice", 2}, {"bob", 1}, {"carol", 1}, {"dave", 1}, {"erin", 1}};
    CHECK(users_of(*users) == expected);
    std::vector<std::string> names;
    for (auto& u : list(*users, "users").GetArray())
      names.push_back(u["user"].GetString());
    CHECK(std::is_sorted(names.begin(), names.end()));

    auto conns = ctl_json(s.admin(), {"conns"});
    CHECK(conn_lines(*conns) == std::vector<std::string>{"alice:alpha,beta", "alice:gamma",
                                                         "bob:alpha", "carol:alpha",
                                                         "dave:beta", "erin:gamma"});
    std::set<std::string> ids;
    for (auto& c : list(*conns, "connections").GetArray()) {
      ids.insert(id_text(c["id"]));
      CHECK(std::string(c["remote"].GetString()).rfind("127.0.0.1:", 0) == 0);
      CHECK(c["queue_bytes"].IsUint64());
      CHECK(c["age_s"].IsNumber());
      CHECK(c["frames_in"].GetUint64() >= 1); // every connection sent at least a join
      CHECK(c["frames_out"].GetUint64() >= 1);
    }
    CHECK(ids.size() == 6);
  }

  SECTION("actors has the three rooms and the six connections") {
    auto conns = ctl_json(s.admin(), {"conns"});
    std::set<std::string> conn_ids;
    for (auto& c : list(*conns, "connections").GetArray())
      conn_ids.insert(id_text(c["id"]));
    auto doc = ctl_json(s.admin(), {"actors"});
    std::set<std::string> rooms, connections;
    for (auto& a : list(*doc, "actors").GetArray()) {
      std::string kind = a["kind"].GetString();
      INFO("actor " << kind << " " << id_text(a["id"]));
      CHECK((kind == "room" || kind == "connection" || kind == "presence" || kind == "writer"));
      CHECK(a["mailbox"].IsUint64());
      CHECK(a["handled"].IsUint64());
      CHECK(a["rate"].IsNumber());
      if (kind == "room")
        rooms.insert(id_text(a["id"]));
      if (kind == "connection")
        connections.insert(id_text(a["id"]));
    }
    CHECK(rooms == std::set<std::string>{"alpha", "beta", "gamma"});
    CHECK(connections == conn_ids);
  }

  SECTION("status totals match, and rates rise while messages flow") {
    auto node = ctl_json(s.admin(), {"status"});
    CHECK(std::string((*node)["node"].GetString()) == "test-node");
    CHECK((*node)["connections"].GetUint64() == 6);
    CHECK((*node)["rooms"].GetUint64() == 3);
    CHECK((*node)["online_users"].GetUint64() == 5);
    CHECK((*node)["messages"].GetUint64() == 10);
    CHECK((*node)["store"]["backend"].GetString() == std::string("memory"));

    // Keep a message flowing on every poll until a one-second sample sees it.
    int n = 0;
    auto busy = poll_json(s.admin(), {"rooms"}, [&](const rapidjson::Document& d) {
      say(s.carol, "alpha", 1, "c" + std::to_string(n++));
      for (auto& r : list(d, "rooms").GetArray())
        if (id_text(r["id"]) == "alpha" && r["rate"].GetDouble() > 0)
          return true;
      return false;
    });
    bool alpha_busy = false;
    for (auto& r : list(*busy, "rooms").GetArray())
      alpha_busy |= id_text(r["id"]) == "alpha" && r["rate"].GetDouble() > 0;
    CHECK(alpha_busy);
    auto rates = poll_json(s.admin(), {"status"}, [&](const rapidjson::Document& d) {
      say(s.carol, "alpha", 1, "c" + std::to_string(n++));
      return d["rates"]["messages_per_s"].GetDouble() > 0;
    });
    CHECK((*rates)["rates"]["messages_per_s"].GetDouble() > 0);
    CHECK((*rates)["rates"]["deliveries_per_s"].GetDouble() > 0);
  }
}

TEST_CASE("chatctl kick and close drop exactly the sessions named") {
  chat_scene s;
  s.settle();

  auto r = chatctl(s.admin(), {"kick", "alice"});
  INFO("kick: " << r.out << r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "alice"));
  CHECK(contains(r.out, "2 connections"));
  CHECK(s.alice.closed_within(5s));
  CHECK(s.alice2.closed_within(5s));

  // The others stay: bob still sends and receives in alpha.
  s.bob.send(send_frame("alpha", "still here", "b-after"));
  CHECK(s.bob.next_op("ack").u64("seq") == 6);
  auto users = poll_json(s.admin(), {"users"},
                         [](const rapidjson::Document& d) { return users_of(d).count("alice") == 0; });
  CHECK(users_of(*users)
        == std::map<std::string, uint64_t>{{"bob", 1}, {"carol", 1}, {"dave", 1}, {"erin", 1}});

  auto none = ctl_json(s.admin(), {"kick", "nobody"});
  CHECK((*none)["kicked"].GetUint64() == 0);

  // close: find dave's connection id, close it, and only dave goes.
  auto conns = ctl_json(s.admin(), {"conns"});
  std::string dave_id;
  for (auto& c : list(*conns, "connections").GetArray())
    if (c["user"].GetString() == std::string("dave"))
      dave_id = id_text(c["id"]);
  REQUIRE_FALSE(dave_id.empty());
  auto closed = chatctl(s.admin(), {"close", dave_id});
  INFO("close: " << closed.out << closed.err);
  CHECK(closed.code == 0);
  CHECK(s.dave.closed_within(5s));
  s.erin.send(R"({"op":"ping","rid":"p"})");
  CHECK(s.erin.next_op("pong").str("rid") == "p");
  auto left = poll_json(s.admin(), {"conns"}, [](const rapidjson::Document& d) {
    return conn_lines(d).size() == 3;
  });
  CHECK(conn_lines(*left) == std::vector<std::string>{"bob:alpha", "carol:alpha", "erin:gamma"});

  auto missing = chatctl(s.admin(), {"close", "999999"});
  CHECK(missing.code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err == "chatctl: no connection '999999'\n");
}

TEST_CASE("chatctl rooms prints aligned columns with the room names") {
  chat_scene s;
  s.settle();
  auto r = chatctl(s.admin(), {"rooms"});
  INFO("rooms:\n" << r.out << r.err);
  REQUIRE(r.code == 0);
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  REQUIRE(lines.size() == 4);
  auto header = words_with_ends(lines[0]);
  REQUIRE(header.size() >= 3);
  CHECK(header[0].first == "ROOM");
  CHECK(header[1].first == "MEMBERS");
  for (size_t i = 1; i < lines.size(); ++i) {
    INFO("line: '" << lines[i] << "'");
    auto row = words_with_ends(lines[i]);
    REQUIRE(row.size() == header.size());
    // The room name starts the line; every number ends under the end of its heading.
    CHECK(row[0].first == scene_rooms[i - 1].first);
    CHECK(lines[i].rfind(row[0].first, 0) == 0);
    CHECK(row[1].first == std::to_string(scene_rooms[i - 1].second));
    for (size_t c = 1; c < row.size(); ++c)
      CHECK(row[c].second == header[c].second);
  }
}

TEST_CASE("chatctl errors: one line and exit 1 when unreachable or not found, exit 2 on usage") {
  // A bound socket that never listens: connecting to it is refused for as long as it is held.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  uint16_t dead_port = ntohs(addr.sin_port);

  for (auto sub : {"status", "rooms", "users", "conns", "actors"}) {
    auto r = chatctl(dead_port, {sub});
    INFO(sub);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "chatctl: cannot reach admin endpoint 127.0.0.1:" + std::to_string(dead_port)
                       + ": Connection refused\n");
  }
  close(fd);

  node_process node({"--storage.backend=memory"});
  auto missing = chatctl(node.admin_port(), {"room", "x"});
  CHECK(missing.code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err == "chatctl: no room 'x'\n");

  CHECK(chatctl(node.admin_port(), {}).code == 2);
  CHECK(chatctl(node.admin_port(), {"bogus"}).code == 2);
  CHECK(chatctl(node.admin_port(), {"room"}).code == 2);
  CHECK(chatctl(node.admin_port(), {"rooms", "--no-such-flag"}).code == 2);
  CHECK(run({CHATCTL_BINARY, "--admin", "nonsense", "rooms"}).code == 2);
}

TEST_CASE("chatctl top shows the totals and rooms in a terminal, survives the node going away, "
          "and quits on q") {
  chat_scene s;
  s.settle();
  auto dir = make_temp_dir();
  std::string exit_file = dir + "/top.exit";
  std::string command = std::string("'") + CHATCTL_BINARY + "' --admin 127.0.0.1:"
                        + std::to_string(s.admin()) + " top --interval 0.5; echo $? > '"
                        + exit_file + "'";
  tmux_session term(command, 160, 40);

  auto screen = term.wait_screen([](const std::string& text) {
    return contains(text, "connections 6") && contains(text, "alpha");
  });
  INFO("screen:\n" << screen);
  CHECK(contains(screen, "connections 6"));
  CHECK(contains(screen, "rooms 3"));
  CHECK(contains(screen, "online users 5"));
  CHECK(contains(screen, "messages/s"));
  CHECK(contains(screen, "deliveries/s"));
  CHECK(contains(screen, "store backlog"));
  CHECK(contains(screen, "BUSIEST ROOMS"));
  CHECK(contains(screen, "alpha"));
  CHECK(contains(screen, "gamma"));
  CHECK(contains(screen, "BUSIEST ACTORS"));
  CHECK(contains(screen, "LARGEST MAILBOXES"));

  // The node goes away: top keeps running and says why it has no fresh data.
  s.node.kill9();
  auto gone = term.wait_screen(
      [](const std::string& text) { return contains(text, "cannot reach admin endpoint"); });
  INFO("screen after the node stopped:\n" << gone);
  CHECK(contains(gone, "Connection refused"));
  CHECK(term.alive());

  term.keys("q");
  CHECK(term.ends_within(5s));
  std::string code;
  std::ifstream(exit_file) >> code;
  CHECK(code == "0");
}
