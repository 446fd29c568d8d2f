#include "node/hub_connection.h"

#include "protocol/socket.h"

namespace osrc::node {

HubConnection::HubConnection(zmq::context_t& context, const protocol::KeyPair& keys,
                             const std::string& hub_key, const protocol::LinkOptions& link,
                             const std::string& monitor_endpoint, const std::string& hub_endpoint)
    : socket_(protocol::MakeDealer(context, keys, hub_key, link)),
      monitor_(context, socket_, monitor_endpoint) {
  socket_.connect(hub_endpoint);
}

HubConnection::News HubConnection::TakeNews() {
  monitor_.Poll();
  if (!monitor_.failure().ok()) return News::kFailed;
  if (monitor_.connected() && !connected_) {
    connected_ = true;
    return News::kConnected;
  }
  if (monitor_.handshake_done() && !secured_) {
    secured_ = true;
    return News::kSecured;
  }
  return News::kNone;
}

std::optional<HubConnection::Received> HubConnection::Receive(
    const protocol::MessageLimits& limits) {
  std::optional<zmq::message_t> frame = protocol::ReceiveFrame(socket_);
  if (!frame) return std::nullopt;
  Received received;
  received.bytes = frame->size();
  received.status =
      protocol::DecodeMessage({static_cast<const uint8_t*>(frame->data()), frame->size()}, limits,
                              &received.message, &received_);
  return received;
}

void HubConnection::SayFarewell(const std::string& frame) {
  socket_.set(zmq::sockopt::linger, 1000);
  protocol::SendFrame(socket_, frame);
}

}  // namespace osrc::node
