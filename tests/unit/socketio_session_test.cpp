// Unit: a Socket.IO connection over an Engine.IO session, driven with the scenarios of the
// protocol's reference test suite against an echo application (the behaviour its test
// server has): namespaces "/" and "/custom", others refused; "auth" echoed on connect;
// "message" echoed as "message-back" with its attachments; "message-with-ack" acked with
// its arguments. Every protocol violation closes the connection.
#include "net/engineio_server.hpp"
#include "net/socketio_session.hpp"

#include "tests/support/engineio_fakes.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace chat;
using namespace chat::net;
using chat::test::fake_link;
using namespace std::chrono_literals;

namespace {

std::string json_of(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// The JSON array of `args` from index `from`, with `first` (raw JSON) before them.
std::string array_from(const rapidjson::Value& args, size_t from, const std::string& first = {}) {
  std::string out = "[" + first;
  for (size_t i = from; i < args.Size(); ++i) {
    if (out.size() > 1)
      out += ",";
    out += json_of(args[rapidjson::SizeType(i)]);
  }
  return out + "]";
}

struct echo_app : sio::app {
  int closes = 0;
  std::vector<std::string> disconnects;
  void on_connect(sio::session& s, const std::string& nsp, const rapidjson::Value& auth) override {
    if (nsp != "/" && nsp != "/custom") {
      s.refuse(nsp, "Invalid namespace");
      return;
    }
    s.accept(nsp);
    sio::packet p{sio::packet_type::event, nsp, false, 0,
                  "[\"auth\"," + (auth.IsNull() ? std::string("{}") : json_of(auth)) + "]", {}};
    s.send(p);
  }
  void on_event(sio::session& s, sio::packet& p, const rapidjson::Value& args) override {
    std::string name = args[0].GetString();
    sio::packet out;
    out.nsp = p.nsp;
    out.attachments = p.attachments;
    bool binary = p.type == sio::packet_type::binary_event;
    if (name == "message") {
      out.type = binary ? sio::packet_type::binary_event : sio::packet_type::event;
      out.data = array_from(args, 1, "\"message-back\"");
    } else if (name == "message-with-ack" && p.has_id) {
      out.type = binary ? sio::packet_type::binary_ack : sio::packet_type::ack;
      out.has_id = true;
      out.id = p.id;
      out.data = array_from(args, 1);
    } else {
      return;
    }
    s.send(out);
  }
  void on_disconnect(sio::session&, const std::string& nsp) override { disconnects.push_back(nsp); }
  void on_close(sio::session&, const std::string&) override { ++closes; }
};

struct fixture {
  eio::clock::time_point t0 = eio::clock::time_point{} + std::chrono::hours(1);
  std::vector<echo_app*> apps; // owned by their sessions
  eio::server srv;
  std::shared_ptr<fake_link> link = std::make_shared<fake_link>();
  std::shared_ptr<eio::session> s;

  fixture()
    : srv(eio::limits{}, sio::make_handler_factory(sio::limits{}, [this] {
            auto a = std::make_unique<echo_app>();
            apps.push_back(a.get());
            return a;
          })) {
    s = srv.attach_websocket(chat::test::eio_query("EIO=4&transport=websocket"), link, t0);
    REQUIRE(s);
    REQUIRE(link->take().size() == 1); // the Engine.IO open packet
  }

  // Sends one Engine.IO message: text (with its "4" prefix) or binary.
  void send(const std::string& eio_text) { s->ws_message(*link, false, eio_text, t0); }
  void send_binary(const std::string& bytes) { s->ws_message(*link, true, bytes, t0); }

  // Connects to the main namespace as the reference suite does.
  void connect() {
    send("40");
    auto frames = link->take();
    REQUIRE(frames.size() == 2);
    REQUIRE(frames[0].substr(0, 2) == "40");
    CHECK(frames[1] == R"(42["auth",{}])");
  }
};

void check_connect_ack(const std::string& frame, const std::string& prefix) {
  REQUIRE(frame.substr(0, prefix.size()) == prefix);
  rapidjson::Document d;
  d.Parse(frame.c_str() + prefix.size());
  REQUIRE(d.IsObject());
  CHECK(d.MemberCount() == 1);
  CHECK(d["sid"].IsString());
}

} // namespace

TEST_CASE_METHOD(fixture, "connecting to the main namespace answers {sid} and the app runs") {
  send("40");
  auto frames = link->take();
  REQUIRE(frames.size() == 2);
  check_connect_ack(frames[0], "40");
  CHECK(frames[1] == R"(42["auth",{}])");
}

TEST_CASE_METHOD(fixture, "the auth payload reaches the app") {
  send(R"(40{"token":"123"})");
  auto frames = link->take();
  REQUIRE(frames.size() == 2);
  check_connect_ack(frames[0], "40");
  CHECK(frames[1] == R"(42["auth",{"token":"123"}])");
}

TEST_CASE_METHOD(fixture, "custom namespaces carry their name; unknown ones are refused") {
  send(R"(40/custom,{"token":"abc"})");
  auto frames = link->take();
  REQUIRE(frames.size() == 2);
  check_connect_ack(frames[0], "40/custom,");
  CHECK(frames[1] == R"(42/custom,["auth",{"token":"abc"}])");

  send("40/random");
  CHECK(link->take() == std::vector<std::string>{R"(44/random,{"message":"Invalid namespace"})"});
  CHECK_FALSE(link->closed);
  // A refused namespace may be tried again, and is refused again.
  send("40/random,");
  CHECK(link->take() == std::vector<std::string>{R"(44/random,{"message":"Invalid namespace"})"});
}

TEST_CASE_METHOD(fixture, "events are echoed, acks answered, binary attachments kept") {
  connect();
  send(R"(42["message",1,"2",{"3":[true]}])");
  CHECK(link->take() == std::vector<std::string>{R"(42["message-back",1,"2",{"3":[true]}])"});

  send(R"(42456["message-with-ack",1,"2",{"3":[false]}])");
  CHECK(link->take() == std::vector<std::string>{R"(43456[1,"2",{"3":[false]}])"});

  send(R"(452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  send_binary("");
  CHECK(link->frames.empty());
  send_binary("");
  CHECK(link->take()
        == std::vector<std::string>{
          R"(452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
          "<bin>", "<bin>"});

  send(R"(452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  send_binary("");
  send_binary("");
  CHECK(link->take()
        == std::vector<std::string>{
          R"(462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
          "<bin>", "<bin>"});
  CHECK_FALSE(link->closed);
}

TEST_CASE_METHOD(fixture, "leaving the last namespace closes; leaving another does not") {
  connect();
  send("40/custom");
  CHECK(link->take().size() == 2);
  send("41/custom");
  CHECK(apps[0]->disconnects == std::vector<std::string>{"/custom"});
  send(R"(42["message","message to main namespace"])");
  CHECK(link->take() == std::vector<std::string>{R"(42["message-back","message to main namespace"])"});
  send("41");
  CHECK(link->closed);
  CHECK(apps[0]->closes == 1);
}

TEST_CASE_METHOD(fixture, "protocol violations close the connection") {
  const char* violations[] = {
    "4abc",                                          // unknown packet type
    R"(42{})",                                       // invalid payload format
    R"(42abc["message-with-ack",1,"2",{"3":[false]}])", // invalid ack id
    "40",                                            // CONNECT twice
    R"(42/custom,["message"])",                      // event on a namespace not connected
    "41/custom,",                                    // leaving a namespace not connected
    R"(44{"message":"x"})",                          // CONNECT_ERROR from a client
    "43[1]",                                         // ACK without an id
  };
  for (auto* v : violations) {
    DYNAMIC_SECTION(v) {
      connect();
      send(v);
      CHECK(link->closed);
      CHECK(link->code == 1002);
      // Nothing is processed after the violation.
      send(R"(42["message",1])");
      CHECK(link->take().empty());
    }
  }
}

TEST_CASE_METHOD(fixture, "an event before CONNECT closes the connection") {
  send(R"(42["message",1])");
  CHECK(link->closed);
}

TEST_CASE_METHOD(fixture, "a binary frame nobody waits for closes the connection") {
  connect();
  send_binary("");
  CHECK(link->closed);
}

TEST_CASE("Socket.IO works the same over long-polling, binary included") {
  eio::clock::time_point t0 = eio::clock::time_point{} + std::chrono::hours(1);
  eio::server srv(eio::limits{}, sio::make_handler_factory(sio::limits{}, [] {
                    return std::make_unique<echo_app>();
                  }));
  auto open = srv.handle_http({"GET", chat::test::eio_query("EIO=4&transport=polling"), "", ""}, [] {}, t0);
  REQUIRE(open.answer);
  rapidjson::Document d;
  d.Parse(open.answer->body.c_str() + 1);
  std::string q = std::string("EIO=4&transport=polling&sid=") + d["sid"].GetString();
  auto post = [&](const std::string& body) {
    return srv.handle_http({"POST", chat::test::eio_query(q), "text/plain", body}, [] {}, t0).answer->body;
  };
  auto get = [&] {
    auto r = srv.handle_http({"GET", chat::test::eio_query(q), "", ""}, [] {}, t0);
    REQUIRE(r.answer); // something is queued: answered at once
    return r.answer->body;
  };
  CHECK(post("40") == "ok");
  auto connected = get();
  CHECK(connected.substr(0, 9) == "40{\"sid\":");
  CHECK(connected.substr(connected.find('\x1e') + 1) == R"(42["auth",{}])");
  CHECK(post("451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1e" "bAQID") == "ok");
  CHECK(get() == "451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\x1e" "bAQID");
  CHECK(post("42[\"message\",\"a\"]\x1e" "42[\"message\",\"b\"]") == "ok");
  CHECK(get() == "42[\"message-back\",\"a\"]\x1e" "42[\"message-back\",\"b\"]");
}
