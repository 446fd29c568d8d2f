#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace osrc::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kProxyReadChunk = 16 * 1024;
// Per connection and direction; beyond it we stop reading (backpressure).
constexpr size_t kMaxQueued = 256 * 1024;
// A throttled read waits for at least this many tokens (fewer syscalls).
constexpr double kMinReadTokens = 256;

void CloseFd(int& fd) {
  if (fd >= 0) {
    while (close(fd) < 0 && errno == EINTR) {
    }
    fd = -1;
  }
}

// Makes the next close() send RST instead of FIN.
void ArmReset(int fd) {
  if (fd < 0) return;
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

}  // namespace

// State owned by the I/O thread; only Run() touches it.
class FaultProxy::Loop {
 public:
  explicit Loop(FaultProxy& proxy) : proxy_(proxy) {}
  ~Loop() {
    for (auto& conn : conns_) Close(*conn);
  }

  void Run() {
    std::vector<pollfd> pfds;
    while (true) {
      Clock::time_point now = Clock::now();
      if (!ApplySettings(now)) return;
      up_bucket_.Refill(now);
      down_bucket_.Refill(now);

      std::optional<Clock::time_point> due;
      pfds.clear();
      pfds.push_back({proxy_.wake_fd_, POLLIN, 0});
      pfds.push_back({cur_.blackhole ? -1 : proxy_.listen_fd_, POLLIN, 0});
      size_t polled = cur_.blackhole ? 0 : conns_.size();
      for (size_t i = 0; i < polled; ++i) {
        Conn& c = *conns_[i];
        short client_ev = 0;
        short target_ev = 0;
        if (c.connecting) {
          target_ev = POLLOUT;
        } else {
          if (WantRead(c.up, up_bucket_, now, &due)) client_ev |= POLLIN;
          if (HasDue(c.up, now, &due)) target_ev |= POLLOUT;
          if (WantRead(c.down, down_bucket_, now, &due)) target_ev |= POLLIN;
          if (HasDue(c.down, now, &due)) client_ev |= POLLOUT;
        }
        // A negative fd is ignored by poll(): no spurious POLLHUP wakeups.
        pfds.push_back({client_ev ? c.client : -1, client_ev, 0});
        pfds.push_back({target_ev ? c.target : -1, target_ev, 0});
      }

      int timeout = -1;
      if (due) {
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(*due - now);
        timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, INT_MAX));
      }
      if (poll(pfds.data(), pfds.size(), timeout) < 0) {
        if (errno == EINTR) continue;
        return;  // EINVAL/ENOMEM: nothing sensible left to do.
      }
      if (pfds[0].revents != 0) DrainWake();

      now = Clock::now();
      for (size_t i = 0; i < polled; ++i) {
        Service(*conns_[i], pfds[2 + 2 * i].revents, pfds[3 + 2 * i].revents, now);
      }
      std::erase_if(conns_, [](const auto& c) { return c->dead; });
      if (pfds[1].revents & POLLIN) AcceptAll();
    }
  }

 private:
  // Token bucket shared by all connections for one direction.
  class Bucket {
   public:
    void SetRate(uint64_t rate, Clock::time_point now) {
      Refill(now);
      if (rate_ == 0) tokens_ = 0;
      rate_ = rate;
      tokens_ = std::min(tokens_, Capacity());
    }
    void Refill(Clock::time_point now) {
      if (rate_ != 0 && now > last_) {
        double secs = std::chrono::duration<double>(now - last_).count();
        tokens_ = std::min(Capacity(), tokens_ + secs * rate_);
      }
      last_ = now;
    }
    bool Ready() const { return rate_ == 0 || tokens_ >= Threshold(); }
    Clock::time_point ReadyAt(Clock::time_point now) const {
      double secs = (Threshold() - tokens_) / static_cast<double>(rate_);
      return now + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(std::max(secs, 0.0)));
    }
    size_t Allow(size_t want) const {
      if (rate_ == 0) return want;
      return std::min(want, static_cast<size_t>(std::max(tokens_, 0.0)));
    }
    void Take(size_t n) {
      if (rate_ != 0) tokens_ -= static_cast<double>(n);
    }

   private:
    // A tenth of a second of traffic, so bursts stay small.
    double Capacity() const { return std::max(rate_ / 10.0, 1.0); }
    double Threshold() const { return std::min(Capacity(), kMinReadTokens); }

    uint64_t rate_ = 0;
    double tokens_ = 0;
    Clock::time_point last_ = Clock::now();
  };

  struct Chunk {
    Clock::time_point due;
    std::string data;
    size_t offset = 0;
  };

  // One direction of a connection: bytes read from src wait here until due.
  struct Pipe {
    std::deque<Chunk> queue;
    size_t queued = 0;
    bool src_eof = false;   // src sent FIN.
    bool dst_shut = false;  // FIN forwarded to dst.
  };

  struct Conn {
    int client = -1;
    int target = -1;
    bool connecting = true;
    bool dead = false;
    uint64_t carried = 0;  // Bytes forwarded since the last CutAfter().
    Pipe up;               // client -> target
    Pipe down;             // target -> client
  };

  // Applies the shared settings; returns false when asked to stop.
  bool ApplySettings(Clock::time_point now) {
    Settings s = proxy_.settings();
    if (s.stop) return false;
    if (s.rate != cur_.rate) {
      up_bucket_.SetRate(s.rate, now);
      down_bucket_.SetRate(s.rate, now);
    }
    if (s.cut_after_gen != cur_.cut_after_gen) {
      for (auto& conn : conns_) conn->carried = 0;
    }
    if (s.cut_now_gen != cur_.cut_now_gen) {
      for (auto& conn : conns_) Cut(*conn);
      conns_.clear();
    }
    cur_ = s;
    proxy_.Ack(s.version);
    return true;
  }

  void DrainWake() {
    uint64_t value;
    while (read(proxy_.wake_fd_, &value, sizeof(value)) > 0) {
    }
  }

  static bool WantRead(const Pipe& p, const Bucket& bucket, Clock::time_point now,
                       std::optional<Clock::time_point>* due) {
    if (p.src_eof || p.queued >= kMaxQueued) return false;
    if (bucket.Ready()) return true;
    Clock::time_point at = bucket.ReadyAt(now);
    if (!*due || at < **due) *due = at;
    return false;
  }

  static bool HasDue(const Pipe& p, Clock::time_point now, std::optional<Clock::time_point>* due) {
    if (p.queue.empty()) return false;
    Clock::time_point at = p.queue.front().due;
    if (at <= now) return true;
    if (!*due || at < **due) *due = at;
    return false;
  }

  void AcceptAll() {
    while (true) {
      int fd = accept4(proxy_.listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // EAGAIN, or out of fds: retry on the next wakeup.
      }
      proxy_.counters_.accepted++;
      auto conn = std::make_unique<Conn>();
      conn->client = fd;
      conn->target = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in addr = Loopback(proxy_.target_port_);
      int rc = conn->target < 0
                   ? -1
                   : connect(conn->target, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      if (rc == 0) {
        conn->connecting = false;
      } else if (conn->target < 0 || errno != EINPROGRESS) {
        Refuse(*conn);
        continue;
      }
      int one = 1;
      setsockopt(conn->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      setsockopt(conn->target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      conns_.push_back(std::move(conn));
    }
  }

  void Service(Conn& c, short client_rev, short target_rev, Clock::time_point now) {
    if (c.dead) return;
    if (c.connecting) {
      if (target_rev == 0) return;
      if (SocketError(c.target) != 0) {
        Refuse(c);
      } else {
        c.connecting = false;
      }
      return;
    }
    if (((client_rev | target_rev) & POLLNVAL) ||
        ((client_rev & POLLERR) && SocketError(c.client) != 0) ||
        ((target_rev & POLLERR) && SocketError(c.target) != 0)) {
      Abort(c);
      return;
    }
    constexpr short kReadable = POLLIN | POLLHUP | POLLERR;
    if ((client_rev & kReadable) && !Read(c, c.up, c.client, up_bucket_, now)) {
      return;
    }
    if ((target_rev & kReadable) && !Read(c, c.down, c.target, down_bucket_, now)) {
      return;
    }
    // Flush even without POLLOUT: data may have just become due.
    if (!Flush(c, c.up, c.target, proxy_.counters_.bytes_up, now)) return;
    if (!Flush(c, c.down, c.client, proxy_.counters_.bytes_down, now)) return;
    if (c.up.dst_shut && c.down.dst_shut) Close(c);
  }

  // Reads what the bucket and queue allow. Returns false if c was closed.
  bool Read(Conn& c, Pipe& p, int fd, Bucket& bucket, Clock::time_point now) {
    if (p.src_eof || p.queued >= kMaxQueued) return true;
    size_t budget = bucket.Allow(std::min(kProxyReadChunk, kMaxQueued - p.queued));
    if (budget == 0) return true;
    std::string data(budget, '\0');
    ssize_t n = recv(fd, data.data(), budget, 0);
    if (n > 0) {
      bucket.Take(static_cast<size_t>(n));
      proxy_.Record(&p == &c.up, static_cast<size_t>(n));
      data.resize(static_cast<size_t>(n));
      p.queued += data.size();
      p.queue.push_back({now + cur_.latency, std::move(data), 0});
    } else if (n == 0) {
      p.src_eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      Abort(c);  // ECONNRESET and friends: pass the reset on.
      return false;
    }
    return true;
  }

  // Writes due data to dst, forwards a FIN once drained. Returns false if c
  // was closed.
  bool Flush(Conn& c, Pipe& p, int dst, std::atomic<uint64_t>& counter, Clock::time_point now) {
    while (!p.queue.empty() && p.queue.front().due <= now) {
      Chunk& chunk = p.queue.front();
      size_t len = chunk.data.size() - chunk.offset;
      if (cur_.cut_after != 0) {
        len = std::min<uint64_t>(len, cur_.cut_after - c.carried);
      }
      // Count first, so a byte a peer has seen is always in Stats().
      counter += len;
      ssize_t n = send(dst, chunk.data.data() + chunk.offset, len, MSG_NOSIGNAL);
      size_t sent = n < 0 ? 0 : static_cast<size_t>(n);
      counter -= len - sent;
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // Wait POLLOUT.
        Abort(c);
        return false;
      }
      chunk.offset += sent;
      p.queued -= sent;
      c.carried += sent;
      if (chunk.offset == chunk.data.size()) p.queue.pop_front();
      if (cur_.cut_after != 0 && c.carried >= cur_.cut_after) {
        Cut(c);
        return false;
      }
    }
    if (p.queue.empty() && p.src_eof && !p.dst_shut) {
      shutdown(dst, SHUT_WR);
      p.dst_shut = true;
    }
    return true;
  }

  // Fault injection: reset both sides.
  void Cut(Conn& c) {
    if (c.dead) return;
    proxy_.counters_.cut++;
    Abort(c);
  }

  // A peer failed: reset the other side as well.
  void Abort(Conn& c) {
    ArmReset(c.client);
    ArmReset(c.target);
    Close(c);
  }

  void Refuse(Conn& c) {
    proxy_.counters_.refused++;
    Close(c);
  }

  static void Close(Conn& c) {
    CloseFd(c.client);
    CloseFd(c.target);
    c.dead = true;
  }

  FaultProxy& proxy_;
  Settings cur_;
  std::vector<std::unique_ptr<Conn>> conns_;
  Bucket up_bucket_;
  Bucket down_bucket_;
};

FaultProxy::FaultProxy(uint16_t target_port, uint16_t listen_port)
    : target_port_(target_port), requested_port_(listen_port) {}

FaultProxy::~FaultProxy() { Stop(); }

bool FaultProxy::Start(std::string* error) {
  if (started_) {
    if (error != nullptr) *error = "FaultProxy already started";
    return false;
  }
  auto fail = [&](const char* what) {
    if (error != nullptr) *error = std::string(what) + ": " + strerror(errno);
    CloseFd(listen_fd_);
    CloseFd(wake_fd_);
    return false;
  };
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return fail("socket");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = Loopback(requested_port_);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return fail("bind 127.0.0.1");
  }
  if (listen(listen_fd_, SOMAXCONN) < 0) return fail("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return fail("getsockname");
  }
  port_ = ntohs(addr.sin_port);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return fail("eventfd");
  started_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  thread_ = std::thread([this] {
    Loop(*this).Run();
    std::lock_guard<std::mutex> lock(mu_);  // Release waiting Update()s.
    running_ = false;
    applied_cv_.notify_all();
  });
  return true;
}

void FaultProxy::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    settings_.stop = true;
    running_ = false;
    Wake();
  }
  applied_cv_.notify_all();
  thread_.join();
  CloseFd(listen_fd_);
  CloseFd(wake_fd_);
}

void FaultProxy::SetRate(uint64_t bytes_per_second) {
  Update([&](Settings& s) { s.rate = bytes_per_second; });
}

void FaultProxy::SetLatency(std::chrono::milliseconds one_way) {
  Update([&](Settings& s) { s.latency = std::max(one_way, std::chrono::milliseconds(0)); });
}

void FaultProxy::CutAfter(uint64_t bytes) {
  Update([&](Settings& s) {
    s.cut_after = bytes;
    s.cut_after_gen++;
  });
}

void FaultProxy::CutNow() {
  Update([](Settings& s) { s.cut_now_gen++; });
}

void FaultProxy::Blackhole(bool on) {
  Update([&](Settings& s) { s.blackhole = on; });
}

void FaultProxy::Heal() {
  Update([](Settings& s) {
    s.blackhole = false;
    s.cut_after = 0;
    s.cut_after_gen++;
  });
}

FaultProxyStats FaultProxy::Stats() const {
  return {counters_.bytes_up, counters_.bytes_down, counters_.accepted, counters_.cut,
          counters_.refused};
}

void FaultProxy::ResetStats() {
  for (auto* counter : {&counters_.bytes_up, &counters_.bytes_down, &counters_.accepted,
                        &counters_.cut, &counters_.refused}) {
    *counter = 0;
  }
}

void FaultProxy::MarkTimeline() {
  std::lock_guard<std::mutex> lock(timeline_mu_);
  timeline_mark_ = Clock::now();
  timeline_ = {};
}

FaultProxyTimeline FaultProxy::Timeline() const {
  std::lock_guard<std::mutex> lock(timeline_mu_);
  return timeline_;
}

void FaultProxy::Record(bool up, size_t bytes) {
  std::lock_guard<std::mutex> lock(timeline_mu_);
  auto slot = static_cast<size_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - timeline_mark_).count() /
      FaultProxyTimeline::kSlotMs);
  std::vector<uint64_t>& slots = up ? timeline_.up : timeline_.down;
  if (slots.size() <= slot) slots.resize(slot + 1, 0);
  slots[slot] += bytes;
}

void FaultProxy::Update(const std::function<void(Settings&)>& fn) {
  std::unique_lock<std::mutex> lock(mu_);
  fn(settings_);
  uint64_t version = ++settings_.version;
  if (!running_ || std::this_thread::get_id() == thread_.get_id()) return;
  Wake();
  applied_cv_.wait(lock, [&] { return applied_version_ >= version || !running_; });
}

FaultProxy::Settings FaultProxy::settings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return settings_;
}

void FaultProxy::Ack(uint64_t version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (applied_version_ >= version) return;
    applied_version_ = version;
  }
  applied_cv_.notify_all();
}

void FaultProxy::Wake() {
  uint64_t one = 1;
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

}  // namespace osrc::testing
