#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace osrc::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

// Deterministic bytes covering all 256 values.
std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    s[i] = static_cast<char>(seed >> 24);
  }
  return s;
}

// Echo server on 127.0.0.1:0, one poll() thread. Echoes until the peer's
// FIN, then closes; counts open connections.
class EchoServer {
 public:
  EchoServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 64) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len)) {
      ADD_FAILURE() << "echo server: " << strerror(errno);
    }
    port_ = ntohs(addr.sin_port);
    stop_fd_ = eventfd(0, EFD_NONBLOCK);
    thread_ = std::thread([this] { Run(); });
  }
  ~EchoServer() {
    uint64_t one = 1;
    EXPECT_EQ(write(stop_fd_, &one, sizeof(one)), 8);
    thread_.join();
    close(listen_fd_);
    close(stop_fd_);
  }
  uint16_t port() const { return port_; }

  // Waits until exactly n connections are open; false on deadline.
  bool WaitForOpen(size_t n, milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return open_ == n; });
  }

 private:
  struct Conn {
    int fd;
    std::string pending;
    bool eof = false;
  };

  void Run() {
    std::vector<Conn> conns;
    while (true) {
      std::vector<pollfd> pfds = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (Conn& c : conns) {
        short ev = c.eof || c.pending.size() > (1 << 20) ? 0 : POLLIN;
        if (!c.pending.empty()) ev |= POLLOUT;
        pfds.push_back({c.fd, ev, 0});
      }
      if (poll(pfds.data(), pfds.size(), -1) < 0) continue;  // EINTR
      if (pfds[0].revents) break;
      for (size_t i = 0; i < conns.size(); ++i) {
        Conn& c = conns[i];
        short rev = pfds[2 + i].revents;
        char buf[65536];
        if (rev & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
          if (n > 0) c.pending.append(buf, n);
          if (n == 0) c.eof = true;
          if (n < 0 && errno != EAGAIN && errno != EINTR) c.eof = true;
        }
        if (!c.pending.empty()) {
          ssize_t n = send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) c.pending.erase(0, n);
          if (n < 0 && errno != EAGAIN && errno != EINTR) c.pending.clear();
        }
        if (c.eof && c.pending.empty()) {
          close(c.fd);
          c.fd = -1;
          SetOpen(-1);
        }
      }
      std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
      if (pfds[1].revents & POLLIN) {
        int fd;
        while ((fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          conns.push_back({fd, "", false});
          SetOpen(+1);
        }
      }
    }
    for (Conn& c : conns) close(c.fd);
  }

  void SetOpen(int delta) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ += delta;
    }
    cv_.notify_all();
  }

  int listen_fd_ = -1;
  int stop_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t open_ = 0;
};

// Test client: queues outgoing bytes and pumps them (MSG_DONTWAIT) on demand.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(port);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Client() { Close(); }

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }
  bool reset() const { return reset_; }
  const std::string& received() const { return in_; }

  void Send(const std::string& data) { out_ += data; }
  void ShutdownWhenSent() { shut_wanted_ = true; }
  // Sends RST to the proxy.
  void Reset() {
    linger lg{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    Close();
  }

  // Pumps I/O until done() holds, the peer closes, or `limit` passes.
  // done() runs after every I/O event. Returns done().
  bool PumpUntil(const std::function<bool()>& done, milliseconds limit) {
    const Clock::time_point deadline = Clock::now() + limit;
    while (!done()) {
      if (closed_ || fd_ < 0) return false;
      short ev = POLLIN;
      if (sent_ < out_.size()) ev |= POLLOUT;
      pollfd pfd{fd_, ev, 0};
      auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return done();
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      if (pfd.revents & POLLOUT) {
        ssize_t n =
            send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) sent_ += n;
      }
      if (shut_wanted_ && !shut_done_ && sent_ == out_.size()) {
        shutdown(fd_, SHUT_WR);
        shut_done_ = true;
      }
      if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
        char buf[65536];
        ssize_t n = recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) in_.append(buf, n);
        if (n == 0) closed_ = true;
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
          closed_ = true;
          reset_ = errno == ECONNRESET;
        }
      }
    }
    return true;
  }
  // Pumps until `n` bytes were received.
  bool PumpUntilReceived(size_t n, milliseconds limit) {
    return PumpUntil([&] { return in_.size() >= n; }, limit);
  }
  // Pumps until the peer closes (EOF or reset).
  bool PumpUntilClosed(milliseconds limit) {
    PumpUntil([] { return false; }, limit);
    return closed_;
  }

 private:
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string out_;
  size_t sent_ = 0;
  std::string in_;
  bool shut_wanted_ = false;
  bool shut_done_ = false;
  bool closed_ = false;
  bool reset_ = false;
};

constexpr milliseconds kLong{5000};  // Deadline for things that must happen.
constexpr milliseconds kQuiet{300};  // Window in which nothing must happen.

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(proxy_.Start(&error)) << error;
    ASSERT_NE(proxy_.port(), 0);
  }

  // Round trip of a small message, so the connection is fully set up.
  void Ping(Client& client) {
    size_t before = client.received().size();
    client.Send("ping");
    ASSERT_TRUE(client.PumpUntilReceived(before + 4, kLong));
  }

  EchoServer echo_;
  FaultProxy proxy_{echo_.port()};
};

TEST_F(FaultProxyTest, PassesBytesUnchangedWithHalfClose) {
  constexpr size_t kSize = 300 * 1024;
  std::vector<std::unique_ptr<Client>> clients;
  for (uint32_t i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(proxy_.port()));
    ASSERT_TRUE(clients.back()->connected());
    clients.back()->Send(Pattern(kSize, i));
    clients.back()->ShutdownWhenSent();
  }
  for (uint32_t i = 0; i < 3; ++i) {
    Client& c = *clients[i];
    ASSERT_TRUE(c.PumpUntilClosed(kLong));
    EXPECT_FALSE(c.reset());
    EXPECT_TRUE(c.received() == Pattern(kSize, i)) << "client " << i;
  }
  FaultProxyStats stats = proxy_.Stats();
  EXPECT_EQ(stats.bytes_up, 3 * kSize);
  EXPECT_EQ(stats.bytes_down, 3 * kSize);
  EXPECT_EQ(stats.accepted, 3u);
  EXPECT_EQ(stats.cut, 0u);
  EXPECT_TRUE(echo_.WaitForOpen(0, kLong));

  proxy_.ResetStats();
  stats = proxy_.Stats();
  EXPECT_EQ(stats.bytes_up + stats.bytes_down + stats.accepted, 0u);
}

// Sends `piece`-sized messages and waits for each echo until the connection
// closes or `max_rounds` pass. Returns the number of full round trips.
size_t LockstepUntilClosed(Client& client, size_t piece, size_t max_rounds) {
  for (size_t round = 0; round < max_rounds; ++round) {
    client.Send(Pattern(piece, static_cast<uint32_t>(round)));
    size_t want = client.received().size() + piece;
    if (!client.PumpUntilReceived(want, kLong)) return round;
  }
  return max_rounds;
}

TEST_F(FaultProxyTest, CutAfterResetsEachConnectionAfterKBytes) {
  constexpr uint64_t kCut = 20000;
  constexpr size_t kPiece = 1000;
  proxy_.CutAfter(kCut);
  for (int round = 0; round < 2; ++round) {  // Each connection on its own.
    proxy_.ResetStats();
    Client client(proxy_.port());
    size_t trips = LockstepUntilClosed(client, kPiece, 100);
    EXPECT_TRUE(client.closed());
    // 20 kB in both directions = 10 round trips; the 10th echo may be lost
    // to the reset.
    EXPECT_GE(trips, kCut / (2 * kPiece) - 1);
    EXPECT_LE(trips, kCut / (2 * kPiece));
    EXPECT_LE(client.received().size(), kCut / 2);
    FaultProxyStats stats = proxy_.Stats();
    EXPECT_EQ(stats.bytes_up + stats.bytes_down, kCut);
    EXPECT_EQ(stats.cut, 1u);
  }
  EXPECT_TRUE(echo_.WaitForOpen(0, kLong));

  // A one-way stream is cut at K as well.
  proxy_.ResetStats();
  Client streamer(proxy_.port());
  streamer.Send(Pattern(100000, 5));
  ASSERT_TRUE(streamer.PumpUntilClosed(kLong));
  EXPECT_LE(streamer.received().size(), kCut);
  EXPECT_EQ(proxy_.Stats().bytes_up + proxy_.Stats().bytes_down, kCut);

  // Heal turns the cut off.
  proxy_.Heal();
  Client client(proxy_.port());
  client.Send(Pattern(100000, 7));
  client.ShutdownWhenSent();
  ASSERT_TRUE(client.PumpUntilClosed(kLong));
  EXPECT_FALSE(client.reset());
  EXPECT_TRUE(client.received() == Pattern(100000, 7));
}

TEST_F(FaultProxyTest, CutAfterCountsOpenConnectionsFromTheCall) {
  Client client(proxy_.port());
  ASSERT_EQ(LockstepUntilClosed(client, 5000, 1), 1u);  // Idle afterwards.
  proxy_.ResetStats();
  proxy_.CutAfter(8000);
  size_t trips = LockstepUntilClosed(client, 1000, 100);
  EXPECT_TRUE(client.closed());
  EXPECT_GE(trips, 3u);
  EXPECT_LE(trips, 4u);
  EXPECT_LE(client.received().size(), 5000u + 4000u);
  FaultProxyStats stats = proxy_.Stats();
  EXPECT_EQ(stats.bytes_up + stats.bytes_down, 8000u);
  EXPECT_EQ(stats.cut, 1u);
}

TEST_F(FaultProxyTest, CutNowResetsOpenConnections) {
  Client a(proxy_.port());
  Client b(proxy_.port());
  Ping(a);
  Ping(b);
  ASSERT_TRUE(echo_.WaitForOpen(2, kLong));
  proxy_.CutNow();
  EXPECT_EQ(proxy_.Stats().cut, 2u);  // Synchronous.
  EXPECT_TRUE(a.PumpUntilClosed(kLong));
  EXPECT_TRUE(b.PumpUntilClosed(kLong));
  EXPECT_TRUE(echo_.WaitForOpen(0, kLong));

  // New connections are unaffected.
  Client c(proxy_.port());
  Ping(c);
  EXPECT_FALSE(c.closed());
}

TEST_F(FaultProxyTest, BlackholeHoldsDataAndHealResumes) {
  Client a(proxy_.port());
  Ping(a);
  proxy_.ResetStats();
  proxy_.Blackhole(true);

  a.Send("hello");
  Client b(proxy_.port());  // Lands in the listen backlog.
  ASSERT_TRUE(b.connected());
  b.Send("world");
  EXPECT_FALSE(a.PumpUntilReceived(4 + 5, kQuiet));
  EXPECT_FALSE(b.PumpUntilReceived(5, kQuiet));
  EXPECT_FALSE(a.closed());
  EXPECT_FALSE(b.closed());
  FaultProxyStats stats = proxy_.Stats();
  EXPECT_EQ(stats.bytes_up, 0u);
  EXPECT_EQ(stats.accepted, 0u);

  proxy_.Heal();
  ASSERT_TRUE(a.PumpUntilReceived(4 + 5, kLong));
  ASSERT_TRUE(b.PumpUntilReceived(5, kLong));
  EXPECT_EQ(a.received(), "pinghello");
  EXPECT_EQ(b.received(), "world");
  EXPECT_EQ(proxy_.Stats().accepted, 1u);
}

TEST_F(FaultProxyTest, RateLimitReleasesBytesProgressively) {
  constexpr size_t kSize = 50000;
  const std::string data = Pattern(kSize, 3);
  proxy_.SetRate(10000);
  Client client(proxy_.port());
  client.Send(data);

  // Sample the forwarded count at every arrival until 10 kB came back.
  std::vector<uint64_t> up_samples;
  size_t arrivals = 0;
  size_t last_size = 0;
  ASSERT_TRUE(client.PumpUntil(
      [&] {
        if (client.received().size() != last_size) {
          last_size = client.received().size();
          ++arrivals;
          up_samples.push_back(proxy_.Stats().bytes_up);
        }
        return last_size >= 10000;
      },
      kLong));
  FaultProxyStats stats = proxy_.Stats();
  EXPECT_LT(stats.bytes_up, kSize);  // Not all at once.
  EXPECT_GE(stats.bytes_up, client.received().size());
  EXPECT_GE(arrivals, 5u);
  ASSERT_FALSE(up_samples.empty());
  EXPECT_LT(up_samples.front(), up_samples.back());

  // Lifting the limit delivers the rest.
  proxy_.SetRate(0);
  ASSERT_TRUE(client.PumpUntilReceived(kSize, kLong));
  EXPECT_TRUE(client.received() == data);
}

TEST_F(FaultProxyTest, LatencyHoldsDataThenDelivers) {
  Client client(proxy_.port());
  Ping(client);
  proxy_.SetLatency(250);  // 500 ms round trip.
  client.Send("late");
  EXPECT_FALSE(client.PumpUntilReceived(8, milliseconds(200)));
  ASSERT_TRUE(client.PumpUntilReceived(8, kLong));
  EXPECT_EQ(client.received(), "pinglate");
}

TEST_F(FaultProxyTest, PeerResetClosesTheOtherSide) {
  Client client(proxy_.port());
  Ping(client);
  ASSERT_TRUE(echo_.WaitForOpen(1, kLong));
  client.Reset();
  EXPECT_TRUE(echo_.WaitForOpen(0, kLong));
  Client next(proxy_.port());
  Ping(next);
}

TEST(FaultProxyStandaloneTest, RefusedTargetClosesClient) {
  // A port with no listener: bound (port 0) but never listening, so no one else takes it while
  // the test runs and connecting to it is refused.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  struct CloseAtEnd {
    int fd;
    ~CloseAtEnd() { close(fd); }
  } close_at_end{fd};

  FaultProxy proxy(ntohs(addr.sin_port));
  ASSERT_TRUE(proxy.Start());
  Client client(proxy.port());
  ASSERT_TRUE(client.connected());
  client.Send("anyone?");
  EXPECT_TRUE(client.PumpUntilClosed(kLong));
  EXPECT_TRUE(client.received().empty());
  EXPECT_EQ(proxy.Stats().accepted, 1u);
  EXPECT_EQ(proxy.Stats().refused, 1u);
}

TEST(FaultProxyStandaloneTest, StartFailsOnBusyPort) {
  FaultProxy first(1);
  ASSERT_TRUE(first.Start());
  FaultProxy second(1, first.port());
  std::string error;
  EXPECT_FALSE(second.Start(&error));
  EXPECT_NE(error.find("bind"), std::string::npos) << error;
}

TEST(FaultProxyStandaloneTest, SettingsBeforeStartApply) {
  EchoServer echo;
  FaultProxy proxy(echo.port());
  proxy.SetLatency(1);  // Must not block before Start().
  proxy.Blackhole(true);
  ASSERT_TRUE(proxy.Start());
  Client client(proxy.port());
  client.Send("x");
  EXPECT_FALSE(client.PumpUntilReceived(1, milliseconds(100)));
  proxy.Heal();
  EXPECT_TRUE(client.PumpUntilReceived(1, kLong));
  proxy.Stop();
  proxy.Stop();  // Idempotent.
  EXPECT_FALSE(proxy.Start());
}

}  // namespace
}  // namespace osrc::testing
