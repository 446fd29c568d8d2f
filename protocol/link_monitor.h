// LinkMonitor: watches a node's DEALER through a ZeroMQ socket monitor and records what the
// application cannot see: the link dropped (ZMTP heartbeat timeout or the peer closed it), the
// hub refused this site's key (kNotEnrolled: ZAP status 400), or the secure handshake failed
// (kHandshake: the hub closed it, as it does when the hub key in node.toml is not the hub's).
// Single-threaded, polled; its events socket can wake a poll.
#pragma once

#include <cstdint>
#include <string>
#include <zmq.hpp>

#include "base/error.h"

namespace osrc::protocol {

class LinkMonitor final {
 public:
  // REQUIRES: `socket`, of `context`, outlives the monitor; `endpoint` is a unique inproc address.
  LinkMonitor(zmq::context_t& context, zmq::socket_t& socket, const std::string& endpoint);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  // Reads pending events; the first failure seen stays in failure().
  void Poll();
  // The socket the events arrive on: poll it (ZMQ_POLLIN, or its ZMQ_FD) beside the DEALER to
  // hear of a connection, handshake or loss as it happens.
  zmq::socket_ref events() { return events_; }
  const Status& failure() const { return failure_; }
  bool handshake_done() const { return handshake_done_; }
  // The failure a connection closed during the CURVE handshake reports: a hub that cannot
  // decrypt the node's Hello (a wrong hub key in node.toml) closes it without a word.
  static Status HandshakeFailed(const std::string& address);
  // Whether a TCP connection to the hub (or whatever is in between) was made at some point.
  bool connected() const { return connected_; }

 private:
  void OnEvent(uint16_t event, int32_t value, const std::string& address);

  zmq::socket_ref watched_;
  zmq::socket_t events_;
  Status failure_;
  bool handshake_done_ = false;
  bool connected_ = false;
};

}  // namespace osrc::protocol
