// Tests of protocol/link_monitor.h against a real CURVE ROUTER on 127.0.0.1 port 0: a node that
// has the wrong hub key is told the handshake failed (not "no heartbeat"), and an unenrolled node
// is told so (ZAP status 400), each with its own code.
#include "protocol/link_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "protocol/socket.h"

namespace osrc::protocol {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// A hub-like CURVE ROUTER bound to 127.0.0.1:*, whose ZAP handler answers every request with
// `zap_status` ("200" admits, "400" is "not enrolled").
class FakeHub {
 public:
  FakeHub(zmq::context_t& context, const std::string& zap_status)
      : keys_(GenerateKeyPair()), zap_(context, zmq::socket_type::rep) {
    zap_.set(zmq::sockopt::linger, 0);
    zap_.bind("inproc://zeromq.zap.01");
    router_ = MakeRouter(context, keys_, LinkOptions{});
    router_.bind("tcp://127.0.0.1:*");
    endpoint_ = router_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this, zap_status] { ServeZap(zap_status); });
  }
  ~FakeHub() {
    stop_ = true;
    thread_.join();
  }
  const KeyPair& keys() const { return keys_; }
  const std::string& endpoint() const { return endpoint_; }

 private:
  void ServeZap(const std::string& status) {
    while (!stop_) {
      zmq::pollitem_t item{zap_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, milliseconds(20)) == 0) continue;
      std::vector<zmq::message_t> parts;
      do {
        zmq::message_t part;
        if (!zap_.recv(part)) return;
        parts.push_back(std::move(part));
      } while (parts.back().more());
      zap_.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
      zap_.send(parts.at(1), zmq::send_flags::sndmore);  // request id
      zap_.send(zmq::buffer(status), zmq::send_flags::sndmore);
      zap_.send(zmq::str_buffer("test"), zmq::send_flags::sndmore);
      zap_.send(zmq::str_buffer("MAS"), zmq::send_flags::sndmore);
      zap_.send(zmq::str_buffer(""), zmq::send_flags::none);
    }
  }

  KeyPair keys_;
  zmq::socket_t zap_;
  zmq::socket_t router_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Connects a node DEALER that trusts `hub_key` and waits on its monitor's events socket until the
// handshake is done or a failure is recorded (deadline 10 s): each event wakes the wait.
Status Connect(zmq::context_t& context, const std::string& endpoint, const std::string& hub_key,
               bool* handshake_done) {
  zmq::socket_t dealer = MakeDealer(context, GenerateKeyPair(), hub_key, LinkOptions{});
  LinkMonitor monitor(context, dealer, "inproc://link-monitor-test");
  dealer.connect(endpoint);
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline && monitor.failure().ok() && !monitor.handshake_done()) {
    zmq::pollitem_t item{monitor.events().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    monitor.Poll();
  }
  *handshake_done = monitor.handshake_done();
  return monitor.failure();
}

TEST(LinkMonitorTest, WrongHubKeyIsAFailedHandshake) {
  zmq::context_t context;
  FakeHub hub(context, "200");
  bool done = false;
  Status failure = Connect(context, hub.endpoint(), GenerateKeyPair().public_key, &done);
  EXPECT_FALSE(done);
  EXPECT_EQ(failure.code(), ErrorCode::kHandshake) << failure.ToString();
  EXPECT_NE(failure.what().find("handshake"), std::string::npos) << failure.what();
  EXPECT_NE(failure.what().find("hub key in node.toml"), std::string::npos) << failure.what();
  EXPECT_EQ(failure.what().find("heartbeat"), std::string::npos) << failure.what();
  EXPECT_EQ(failure.where(), hub.endpoint());
}

TEST(LinkMonitorTest, UnenrolledSiteIsToldSo) {
  zmq::context_t context;
  FakeHub hub(context, "400");
  bool done = false;
  Status failure = Connect(context, hub.endpoint(), hub.keys().public_key, &done);
  EXPECT_FALSE(done);
  EXPECT_EQ(failure.code(), ErrorCode::kNotEnrolled) << failure.ToString();
  EXPECT_NE(failure.what().find("not enrolled"), std::string::npos) << failure.what();
}

TEST(LinkMonitorTest, RightKeyCompletesTheHandshake) {
  zmq::context_t context;
  FakeHub hub(context, "200");
  bool done = false;
  Status failure = Connect(context, hub.endpoint(), hub.keys().public_key, &done);
  EXPECT_TRUE(done);
  EXPECT_TRUE(failure.ok()) << failure.ToString();
}

}  // namespace
}  // namespace osrc::protocol
