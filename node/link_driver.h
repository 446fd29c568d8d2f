// The network driver of a site's LinkSession: a CurveZMQ DEALER per connection, a socket monitor
// for what the application cannot see (TCP up, handshake done or refused, link lost), and the
// clock ticks. It opens and closes connections and sends frames as the session says, and logs
// its lines. Single-threaded; owns its sockets.
#pragma once

#include <spdlog/spdlog.h>

#include <functional>
#include <zmq.hpp>

#include "node/link_session.h"
#include "node/node.h"

namespace osrc::node {

// Runs `session` until `should_stop` returns true (then stops it) or the session fails (a session
// that does not reconnect). A store fault ends the connection, never the process.
void DriveLink(Node& node, zmq::context_t& context, spdlog::logger& log, LinkSession& session,
               const std::function<bool()>& should_stop);

}  // namespace osrc::node
