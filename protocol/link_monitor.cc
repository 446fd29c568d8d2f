#include "protocol/link_monitor.h"

#include <cstring>

namespace osrc::protocol {

LinkMonitor::LinkMonitor(zmq::context_t& context, zmq::socket_t& socket,
                         const std::string& endpoint)
    : watched_(socket), events_(context, zmq::socket_type::pair) {
  constexpr int kEvents = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                          ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                          ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kEvents) != 0) throw zmq::error_t();
  events_.connect(endpoint);
}

LinkMonitor::~LinkMonitor() { zmq_socket_monitor(watched_.handle(), nullptr, 0); }

void LinkMonitor::Poll() {
  // Each event is two frames: its number (16 bits) and value (32 bits), then the address.
  zmq::message_t event, address;
  while (events_.recv(event, zmq::recv_flags::dontwait)) {
    if (!event.more() || !events_.recv(address) || event.size() < 6) continue;
    uint16_t number = 0;
    int32_t value = 0;
    std::memcpy(&number, event.data(), sizeof number);
    std::memcpy(&value, static_cast<const char*>(event.data()) + sizeof number, sizeof value);
    OnEvent(number, value, address.to_string());
  }
}

void LinkMonitor::OnEvent(uint16_t event, int32_t value, const std::string& address) {
  switch (event) {
    case ZMQ_EVENT_CONNECTED:
      connected_ = true;
      break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      handshake_done_ = true;
      break;
    case ZMQ_EVENT_DISCONNECTED:
      if (failure_.ok()) {
        failure_ =
            Status(ErrorCode::kDisconnected,
                   "link lost: no heartbeat from the hub in time, or the hub closed it", address);
      }
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      // The value is the ZAP status code: 400 is the hub's "not enrolled or revoked".
      if (value == 400) {
        failure_ = Status(ErrorCode::kNotEnrolled,
                          "hub refused this site's key: site key not enrolled at hub (or revoked)",
                          address);
      } else {
        failure_ = Status(ErrorCode::kForbidden,
                          "hub refused the connection (ZAP status " + std::to_string(value) + ")",
                          address);
      }
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      // The hub closed the connection before the handshake completed; DISCONNECTED follows.
      if (failure_.ok() && !handshake_done_) failure_ = HandshakeFailed(address);
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      if (failure_.ok()) {
        failure_ = Status(ErrorCode::kHandshake,
                          "secure handshake with the hub failed (ZMTP protocol error " +
                              std::to_string(value) +
                              "): is the endpoint a hub, and the hub key in node.toml right?",
                          address);
      }
      break;
    default:
      break;
  }
}

Status LinkMonitor::HandshakeFailed(const std::string& address) {
  return {ErrorCode::kHandshake,
          "secure handshake with the hub failed: the hub key in node.toml ([hub] public_key) may "
          "be wrong (or the link dropped during the handshake)",
          address};
}

}  // namespace osrc::protocol
