// LinkMonitor: watches a node's DEALER through a ZeroMQ socket monitor and records what the
// application cannot see: the link dropped (ZMTP heartbeat timeout or the peer closed it), the
// hub refused this site's key (kNotEnrolled: ZAP status 400), or the secure handshake failed
// (kHandshake: the hub closed it, as it does when the hub key in node.toml is not the hub's).
// Single-threaded, polled.
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
  // The failure a connection closed during the CURVE handshake reports: a hub that cannot
  // decrypt the node's Hello (a wrong hub key in node.toml) closes it without a word.
  static Status HandshakeFailed(const std::string& address);
  // Whether a TCP connection to the hub (or whatever is in between) was made at some point.
  bool connected() const { return connected_; }

 private:
  void on_event_disconnected(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_no_detail(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_protocol(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_succeeded(const zmq_event_t& event, const char* address) override;
  void on_event_connected(const zmq_event_t& event, const char* address) override;

  Status failure_;
  bool handshake_done_ = false;
  bool connected_ = false;
};

}  // namespace osrc::protocol
