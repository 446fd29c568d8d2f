#include "protocol/link_monitor.h"

namespace osrc::protocol {

LinkMonitor::LinkMonitor(zmq::socket_t& socket, const std::string& endpoint) {
  init(socket, endpoint,
       ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
           ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
}

void LinkMonitor::Poll() {
  while (check_event(0)) {
  }
}

void LinkMonitor::on_event_disconnected(const zmq_event_t&, const char* address) {
  if (failure_.ok()) {
    failure_ =
        Status(ErrorCode::kDisconnected,
               "link lost: no heartbeat from the hub in time, or the hub closed it", address);
  }
}

void LinkMonitor::on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) {
  // The value is the ZAP status code: 400 is the hub's "not enrolled or revoked".
  if (event.value == 400) {
    failure_ =
        Status(ErrorCode::kNotEnrolled,
               "hub refused this site's key: site key not enrolled at hub (or revoked)", address);
  } else {
    failure_ = Status(ErrorCode::kForbidden,
                      "hub refused the connection (ZAP status " + std::to_string(event.value) + ")",
                      address);
  }
}

Status LinkMonitor::HandshakeFailed(const std::string& address) {
  return {ErrorCode::kHandshake,
          "secure handshake with the hub failed: the hub key in node.toml ([hub] public_key) may "
          "be wrong (or the link dropped during the handshake)",
          address};
}

void LinkMonitor::on_event_handshake_failed_no_detail(const zmq_event_t&, const char* address) {
  // The hub closed the connection before the handshake completed; DISCONNECTED follows.
  if (failure_.ok() && !handshake_done_) failure_ = HandshakeFailed(address);
}

void LinkMonitor::on_event_handshake_failed_protocol(const zmq_event_t& event,
                                                     const char* address) {
  if (!failure_.ok()) return;
  failure_ = Status(ErrorCode::kHandshake,
                    "secure handshake with the hub failed (ZMTP protocol error " +
                        std::to_string(event.value) +
                        "): is the endpoint a hub, and the hub key in node.toml right?",
                    address);
}

void LinkMonitor::on_event_handshake_succeeded(const zmq_event_t&, const char*) {
  handshake_done_ = true;
}

void LinkMonitor::on_event_connected(const zmq_event_t&, const char*) { connected_ = true; }

}  // namespace osrc::protocol
