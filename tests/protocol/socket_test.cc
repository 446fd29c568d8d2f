// Tests of protocol/socket.h's non-throwing forms: ZeroMQ's errors come back as a Status.
#include "protocol/socket.h"

#include <gtest/gtest.h>

#include <string>

namespace osrc::protocol {
namespace {

TEST(SocketTest, BindOnPortStarReportsThePortChosen) {
  zmq::context_t context;
  zmq::socket_t router = MakeRouter(context, GenerateKeyPair(), LinkOptions{});
  std::string bound;
  ASSERT_TRUE(Bind(router, "tcp://127.0.0.1:*", &bound).ok());
  ASSERT_TRUE(bound.starts_with("tcp://127.0.0.1:")) << bound;
  EXPECT_NE(bound, "tcp://127.0.0.1:0");
  EXPECT_NE(bound.substr(bound.rfind(':') + 1), "*");

  // The same port again: in use, a Status, not an exception.
  zmq::socket_t second = MakeRouter(context, GenerateKeyPair(), LinkOptions{});
  std::string again;
  Status in_use = Bind(second, bound, &again);
  EXPECT_EQ(in_use.code(), ErrorCode::kIo) << in_use.ToString();
  EXPECT_EQ(in_use.where(), bound);
  Status malformed = Bind(second, "tcp://nowhere", &again);
  EXPECT_FALSE(malformed.ok());
}

// The hub's ROUTER leaves dead peers to TCP: ZMTP heartbeats would cost it a search of every
// connection's timers per message. The site's DEALER heartbeats without asking the hub for a
// time to live, which would cost the hub the same.
TEST(SocketTest, OnlyTheSiteHeartbeatsAndTheHubKeepsConnectionsAliveByTcp) {
  zmq::context_t context;
  LinkOptions options;
  zmq::socket_t router = MakeRouter(context, GenerateKeyPair(), options);
  EXPECT_EQ(router.get(zmq::sockopt::heartbeat_ivl), 0);
  EXPECT_EQ(router.get(zmq::sockopt::tcp_keepalive), 1);
  EXPECT_EQ(router.get(zmq::sockopt::tcp_keepalive_idle), options.heartbeat_timeout_ms / 1000);
  EXPECT_EQ(router.get(zmq::sockopt::tcp_maxrt), 4 * options.heartbeat_timeout_ms);
  zmq::socket_t dealer =
      MakeDealer(context, GenerateKeyPair(), GenerateKeyPair().public_key, options);
  EXPECT_EQ(dealer.get(zmq::sockopt::heartbeat_ivl), options.heartbeat_ms);
  EXPECT_EQ(dealer.get(zmq::sockopt::heartbeat_timeout), options.heartbeat_timeout_ms);
  EXPECT_EQ(dealer.get(zmq::sockopt::heartbeat_ttl), 0);
}

// A fleet coming back at once after a hub restart: libzmq's backlog of 100 made the kernel drop
// thousands of 2,000 sites' connection attempts, each retried only seconds later.
TEST(SocketTest, TheHubHasRoomForThousandsOfConnectionsWaitingToBeAccepted) {
  zmq::context_t context;
  zmq::socket_t router = MakeRouter(context, GenerateKeyPair(), LinkOptions{});
  EXPECT_EQ(router.get(zmq::sockopt::backlog), 4096);
}

TEST(SocketTest, OpenDealerRefusesAMalformedKeyOrEndpoint) {
  zmq::context_t context;
  KeyPair keys = GenerateKeyPair();
  zmq::socket_t dealer;
  Status no_key = OpenDealer(context, keys, "", LinkOptions{}, "tcp://127.0.0.1:7400", &dealer);
  EXPECT_EQ(no_key.code(), ErrorCode::kBadInput);
  Status bad_endpoint = OpenDealer(context, keys, GenerateKeyPair().public_key, LinkOptions{},
                                   "127.0.0.1:7400", &dealer);
  EXPECT_EQ(bad_endpoint.code(), ErrorCode::kBadInput) << bad_endpoint.ToString();
  EXPECT_EQ(bad_endpoint.where(), "127.0.0.1:7400");
  ASSERT_TRUE(OpenDealer(context, keys, GenerateKeyPair().public_key, LinkOptions{},
                         "tcp://127.0.0.1:9", &dealer)
                  .ok());
  EXPECT_TRUE(static_cast<bool>(dealer));
}

}  // namespace
}  // namespace osrc::protocol
