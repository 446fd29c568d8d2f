#include "protocol/socket.h"

#include <algorithm>

namespace osrc::protocol {
namespace {

void SetCommon(zmq::socket_t& socket, const LinkOptions& options) {
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options.max_message_bytes));
  socket.set(zmq::sockopt::sndhwm, 10000);
  socket.set(zmq::sockopt::rcvhwm, 10000);
}

}  // namespace

zmq::socket_t MakeDealer(zmq::context_t& context, const KeyPair& keys,
                         const std::string& hub_public_key, const LinkOptions& options) {
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  SetCommon(socket, options);
  // Heartbeats from the site only: a time to live in them would have the hub cancel a timer
  // after each (see MakeRouter).
  socket.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_ms);
  socket.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
  socket.set(zmq::sockopt::curve_serverkey, hub_public_key);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  socket.set(zmq::sockopt::reconnect_ivl, options.reconnect_min_ms);
  socket.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_max_ms);
  return socket;
}

zmq::socket_t MakeRouter(zmq::context_t& context, const KeyPair& keys, const LinkOptions& options) {
  zmq::socket_t socket(context, zmq::socket_type::router);
  SetCommon(socket, options);
  // No ZMTP heartbeats here: libzmq cancels a connection's heartbeat timer by a linear search of
  // every timer of its I/O thread, which with 2,000 sites took a third of the hub's I/O threads.
  // The kernel finds dead peers instead: idle ones by keepalive probes, ones that leave data
  // unacknowledged by the retransmission limit. Sessions still expire on the hub's own clock.
  socket.set(zmq::sockopt::tcp_keepalive, 1);
  socket.set(zmq::sockopt::tcp_keepalive_idle, std::max(1, options.heartbeat_timeout_ms / 1000));
  socket.set(zmq::sockopt::tcp_keepalive_intvl, std::max(1, options.heartbeat_ms / 1000));
  socket.set(zmq::sockopt::tcp_keepalive_cnt, 3);
  socket.set(zmq::sockopt::tcp_maxrt, 4 * options.heartbeat_timeout_ms);
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  socket.set(zmq::sockopt::zap_domain, "osrc");
  socket.set(zmq::sockopt::router_mandatory, 1);
  // Room for every site to come back at once after a hub restart: with libzmq's 100, the kernel
  // dropped thousands of connection attempts of 2,000 sites, each retried only seconds later. The
  // kernel caps it at net.core.somaxconn.
  socket.set(zmq::sockopt::backlog, kListenBacklog);
  return socket;
}

Status OpenDealer(zmq::context_t& context, const KeyPair& keys, const std::string& hub_public_key,
                  const LinkOptions& options, const std::string& endpoint, zmq::socket_t* out) {
  if (!IsZ85Key(hub_public_key)) {
    return {ErrorCode::kBadInput, "hub public key is not a 40-character Z85 CURVE key", endpoint};
  }
  try {
    zmq::socket_t socket = MakeDealer(context, keys, hub_public_key, options);
    socket.connect(endpoint);
    *out = std::move(socket);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kBadInput, std::string("cannot connect to the hub: ") + e.what(), endpoint};
  }
  return {};
}

Status Bind(zmq::socket_t& socket, const std::string& endpoint, std::string* bound) {
  try {
    socket.bind(endpoint);
    *bound = socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kIo, std::string("cannot bind: ") + e.what(), endpoint};
  }
  return {};
}

bool SendFrame(zmq::socket_t& socket, std::string_view bytes, bool more) {
  try {
    auto flags = zmq::send_flags::dontwait;
    if (more) flags = flags | zmq::send_flags::sndmore;
    return socket.send(zmq::const_buffer(bytes.data(), bytes.size()), flags).has_value();
  } catch (const zmq::error_t&) {
    return false;  // EHOSTUNREACH: the peer is gone
  }
}

std::optional<zmq::message_t> ReceiveFrame(zmq::socket_t& socket) {
  zmq::message_t message;
  if (!socket.recv(message, zmq::recv_flags::dontwait)) return std::nullopt;
  return message;
}

}  // namespace osrc::protocol
