#include "protocol/link_monitor.h"

namespace osrc::protocol {

LinkMonitor::LinkMonitor(zmq::socket_t& socket, const std::string& endpoint) {
  init(socket, endpoint,
       ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
}

void LinkMonitor::Poll() {
  while (check_event(0)) {
  }
}

void LinkMonitor::on_event_disconnected(const zmq_event_t&, const char* address) {
  if (failure_.ok()) {
    failure_ = Status(ErrorCode::kDisconnected,
                      "link lost: no heartbeat from the hub in time, or the hub closed it", address);
  }
}

void LinkMonitor::on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) {
  // The value is the ZAP status code: 400 is the hub's "not enrolled or revoked".
  if (event.value == 400) {
    failure_ = Status(ErrorCode::kNotEnrolled,
                      "hub refused this site's key: site key not enrolled at hub (or revoked)",
                      address);
  } else {
    failure_ = Status(ErrorCode::kForbidden,
                      "hub refused the connection (ZAP status " + std::to_string(event.value) + ")",
                      address);
  }
}

void LinkMonitor::on_event_handshake_failed_protocol(const zmq_event_t&, const char* address) {
  failure_ = Status(ErrorCode::kNotEnrolled,
                    "CURVE handshake failed: is the hub public key in node.toml right?", address);
}

void LinkMonitor::on_event_handshake_succeeded(const zmq_event_t&, const char*) {
  handshake_done_ = true;
}

void LinkMonitor::on_event_connected(const zmq_event_t&, const char*) { connected_ = true; }

}  // namespace osrc::protocol
