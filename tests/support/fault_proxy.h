// FaultProxy: a loopback TCP proxy that simulates a bad link (2G, satellite)
// between a site node and the hub, for tests.
//
// It listens on 127.0.0.1 and forwards every accepted connection to
// 127.0.0.1:<target_port>. The "up" direction is client -> target (node ->
// hub), "down" is target -> client (hub -> node). Faults can be switched at
// any time while traffic flows:
//   - SetRate:    token-bucket throttle per direction, shared by all
//                 connections (the link as a whole), 0 = unlimited;
//   - SetLatency: one-way delay added to each direction (timed queue);
//   - CutAfter:   reset each connection once it carried N bytes;
//   - CutNow:     reset every open connection;
//   - Blackhole:  stop reading, writing and accepting, keep sockets open.
//
// All I/O runs on one background thread (a single poll() loop, non-blocking
// sockets). Only 127.0.0.1 is ever bound or connected to.
//
// Thread-safety: the control methods (SetRate ... Heal, Stats, ResetStats)
// may be called from any thread, before Start() or while running; they must
// not race with Start()/Stop()/destruction. While running, each control
// method returns only once the I/O thread has applied it, so I/O done after
// the call sees the new setting (e.g. no byte is forwarded after
// Blackhole(true) returns; CutNow() returns after the resets were sent).

#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace osrc::testing {

// Snapshot of the proxy counters since construction or the last ResetStats().
// Bytes are counted as they are handed to the kernel: a byte that a peer has
// received is always counted already.
struct FaultProxyStats {
  uint64_t bytes_up = 0;    // Forwarded client -> target (node -> hub).
  uint64_t bytes_down = 0;  // Forwarded target -> client (hub -> node).
  uint64_t accepted = 0;    // Client connections accepted.
  uint64_t cut = 0;         // Connections closed by CutAfter()/CutNow().
  uint64_t refused = 0;     // Connections whose target connect failed.
};

// Bytes each direction took from the link, per slot of kSlotMs since the last MarkTimeline() (or
// Start()): how busy the link was, second by second.
struct FaultProxyTimeline {
  static constexpr int kSlotMs = 100;
  std::vector<uint64_t> up;
  std::vector<uint64_t> down;
};

class FaultProxy {
 public:
  // Forwards to 127.0.0.1:target_port; listens on 127.0.0.1:listen_port
  // (0 = pick a free port). Nothing happens until Start().
  explicit FaultProxy(uint16_t target_port, uint16_t listen_port = 0);
  ~FaultProxy();  // Calls Stop().

  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Binds, listens and starts the I/O thread. Returns false (and fills
  // *error if given) on failure. Call at most once.
  bool Start(std::string* error = nullptr);
  // Closes every socket and joins the I/O thread. Idempotent.
  void Stop();

  // The listening port; valid after a successful Start().
  uint16_t port() const { return port_; }
  uint16_t target_port() const { return target_port_; }

  // Throttles each direction to bytes_per_second (0 = unlimited); all
  // connections share one token bucket per direction, like one link.
  void SetRate(uint64_t bytes_per_second);
  // Adds a one-way delay to each direction. Already queued data keeps the
  // delay it was read with.
  void SetLatency(std::chrono::milliseconds one_way);
  void SetLatency(int64_t milliseconds) { SetLatency(std::chrono::milliseconds(milliseconds)); }
  // Resets (RST) each connection once it has carried `bytes` in total (both
  // directions) since this call; new connections are counted from zero.
  // Never forwards more than `bytes` on a connection. 0 = off.
  void CutAfter(uint64_t bytes);
  // Resets every connection open now.
  void CutNow();
  // On: stop forwarding and accepting (sockets stay open, queued data is
  // held). Off: resume.
  void Blackhole(bool on);
  // Blackhole(false) + CutAfter(0); rate and latency are unchanged.
  void Heal();

  FaultProxyStats Stats() const;
  void ResetStats();
  // Starts the timeline afresh from now.
  void MarkTimeline();
  FaultProxyTimeline Timeline() const;

 private:
  struct Settings {
    uint64_t rate = 0;
    std::chrono::milliseconds latency{0};
    uint64_t cut_after = 0;
    uint64_t cut_after_gen = 0;  // Bumped by CutAfter()/Heal().
    uint64_t cut_now_gen = 0;    // Bumped by CutNow().
    bool blackhole = false;
    bool stop = false;
    uint64_t version = 0;  // Bumped by every change.
  };
  struct Counters {
    std::atomic<uint64_t> bytes_up{0};
    std::atomic<uint64_t> bytes_down{0};
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> cut{0};
    std::atomic<uint64_t> refused{0};
  };
  class Loop;  // The I/O loop state, owned by the thread (fault_proxy.cc).

  // Called by the loop: `bytes` read in one direction.
  void Record(bool up, size_t bytes);
  // Applies fn to the settings, wakes the loop and waits until it applied
  // them (unless not running or called from the loop thread).
  void Update(const std::function<void(Settings&)>& fn);
  // Called by the loop: reads the settings, then acknowledges a version once
  // it has applied it (this releases the waiting Update() calls).
  Settings settings() const;
  void Ack(uint64_t version);
  void Wake();

  const uint16_t target_port_;
  const uint16_t requested_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd written by control methods.
  bool started_ = false;

  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  Settings settings_;             // Guarded by mu_.
  uint64_t applied_version_ = 0;  // Guarded by mu_.
  bool running_ = false;          // Guarded by mu_.
  Counters counters_;
  mutable std::mutex timeline_mu_;
  std::chrono::steady_clock::time_point timeline_mark_ = std::chrono::steady_clock::now();
  FaultProxyTimeline timeline_;  // Guarded by timeline_mu_.
  std::thread thread_;
};

}  // namespace osrc::testing
