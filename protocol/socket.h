// ZeroMQ sockets of the sync link, always CurveZMQ: the node's DEALER (with ZMTP heartbeats) and
// the hub's ROUTER (with TCP keepalives), linger and message size limits set. Each socket belongs
// to one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "base/error.h"
#include "protocol/curve_keys.h"
#include "protocol/link_options.h"

namespace osrc::protocol {

// A DEALER that connects to `endpoint`, authenticating the hub by `hub_public_key`.
zmq::socket_t MakeDealer(zmq::context_t& context, const KeyPair& keys,
                         const std::string& hub_public_key, const LinkOptions& options);
// Connections the hub's listening socket holds before it accepts them.
inline constexpr int kListenBacklog = 4096;

// A CURVE server ROUTER, not yet bound. REQUIRES: a ZAP handler is bound already.
zmq::socket_t MakeRouter(zmq::context_t& context, const KeyPair& keys, const LinkOptions& options);

// The same without exceptions: ZeroMQ's errors (a malformed key or endpoint, an address in use)
// as a Status naming the endpoint. OpenDealer makes the DEALER and connects it to `endpoint`;
// Bind binds `socket` and sets `*bound` to the endpoint bound (with port `*`: the port chosen).
Status OpenDealer(zmq::context_t& context, const KeyPair& keys, const std::string& hub_public_key,
                  const LinkOptions& options, const std::string& endpoint, zmq::socket_t* out);
Status Bind(zmq::socket_t& socket, const std::string& endpoint, std::string* bound);

// Sends one frame without blocking; false if it would block or the peer is gone.
bool SendFrame(zmq::socket_t& socket, std::string_view bytes, bool more = false);
// Receives one frame without blocking.
std::optional<zmq::message_t> ReceiveFrame(zmq::socket_t& socket);

}  // namespace osrc::protocol
