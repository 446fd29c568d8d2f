// LinkMonitor: watches a node's DEALER through a ZeroMQ socket monitor and records what the
// application cannot see: the link dropped (ZMTP heartbeat timeout or the peer closed it), or
// the hub refused the CURVE handshake (key not enrolled). Single-threaded, polled.
#pragma once

#include <string>
#include <zmq.hpp>

#include "base/error.h"

namespace osrc::protocol {

class LinkMonitor final : public zmq::monitor_t {
 public:
  // REQUIRES: `socket` outlives the monitor; `endpoint` is a unique inproc address.
  LinkMonitor(zmq::socket_t& socket, const std::string& endpoint);
  // Reads pending events; the first failure seen stays in failure().
  void Poll();
  const Status& failure() const { return failure_; }
  bool handshake_done() const { return handshake_done_; }
  // Whether a TCP connection to the hub (or whatever is in between) was made at some point.
  bool connected() const { return connected_; }

 private:
  void on_event_disconnected(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_protocol(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_succeeded(const zmq_event_t& event, const char* address) override;
  void on_event_connected(const zmq_event_t& event, const char* address) override;

  Status failure_;
  bool handshake_done_ = false;
  bool connected_ = false;
};

}  // namespace osrc::protocol
