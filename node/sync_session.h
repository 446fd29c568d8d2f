// SyncSession: one connection of a site node to the hub. Sends Hello, pushes the change log from
// the hub's acknowledged sequence with a window of batches in flight (go-back-N on a gap), applies
// deliveries durably before acknowledging its cursor, and keeps the link alive while idle.
// Single-threaded; owns its socket for its lifetime.
#pragma once

#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <string>
#include <zmq.hpp>

#include "node/link_tuning.h"
#include "node/node.h"
#include "protocol/link_monitor.h"
#include "protocol/messages.h"

namespace osrc::node {

class SyncSession {
 public:
  // `tuning` outlives the session: what it measured of the link serves the next one.
  SyncSession(Node& node, zmq::context_t& context, spdlog::logger& log, LinkTuning& tuning);
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  // Runs until `should_stop` returns true (Ok), the session is in step and `until_in_step` is set
  // (Ok), or the link fails or the hub refuses (an error naming why).
  Status Run(const std::function<bool()>& should_stop, bool until_in_step);
  bool reached_in_step() const { return reached_in_step_; }

 private:
  enum class State { kConnecting, kSyncing };
  struct InFlight {
    uint64_t first;
    uint64_t last;
    uint64_t sent_ms;
    uint64_t wire_bytes;
    uint64_t raw_bytes;
  };

  Status OnMessage(const protocol::Message& message, size_t frame_bytes);
  Status OnWelcome(const protocol::Welcome& welcome);
  Status OnAck(const protocol::Ack& ack);
  Status OnDeliver(const protocol::Deliver& deliver, size_t frame_bytes);
  Status OnReofferAck(const protocol::ReofferAck& ack);
  // Hands the next owed hub changes back to a restored hub, one Reoffer at a time.
  void SendReoffer();
  void Pump();
  void SendHello();
  void Send(const protocol::Message& message);
  bool SendBytes(std::string_view bytes);
  // The deadline of the secure connection and of the Hello's answer; an error once passed.
  Status CheckSetUp(uint64_t now);
  bool InStep() const;
  // Ends the session on a link failure: records it and shrinks the batch if one was in flight.
  Status Fail(const Status& status);
  void Report(const std::string& state, const std::string& error);
  uint64_t NowMs() { return node_.clock().NowMillis(); }

  Node& node_;
  spdlog::logger& log_;
  const protocol::LinkOptions& options_;
  zmq::socket_t socket_;
  protocol::LinkMonitor monitor_;
  LinkTuning& tuning_;
  State state_ = State::kConnecting;
  std::deque<InFlight> in_flight_;
  uint64_t acked_ = 0;
  uint64_t next_ = 1;
  uint64_t head_ = 0;
  uint64_t cursor_ = 0;
  uint64_t hub_head_ = 0;
  uint64_t started_ms_ = 0;
  uint64_t hello_sent_ms_ = 0;  // 0: no Hello sent yet (it waits for the secure connection)
  bool hello_outstanding_ = false;
  uint64_t last_heard_ms_ = 0;
  uint64_t last_acked_ms_ = 0;  // When an ack last completed a push in flight.
  bool deliver_expected_ = false;
  uint64_t deliver_asked_ms_ = 0;      // when the Hello or CursorAck that asks for more went
  bool owed_ = false;                  // hub changes of an earlier epoch still to hand back
  uint64_t reoffer_outstanding_ = 0;   // token of the Reoffer awaiting its ack; 0: none
  bool reached_in_step_ = false;
  protocol::MessageLimits limits_;
};

}  // namespace osrc::node
