// One connection to the hub as a site drives it (osrc-node's link driver, each of osrc-loadgen's
// sites): the DEALER, its monitor, the Delivers' run history, and which of the monitor's news the
// site's LinkSession has been told. Single-threaded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "base/error.h"
#include "protocol/curve_keys.h"
#include "protocol/link_monitor.h"
#include "protocol/link_options.h"
#include "protocol/messages.h"
#include "protocol/run_history.h"

namespace osrc::node {

class HubConnection {
 public:
  // A DEALER of `keys` trusting `hub_key`, connecting to `hub_endpoint`; `monitor_endpoint` is a
  // unique inproc address. Throws zmq::error_t if the endpoint is refused.
  HubConnection(zmq::context_t& context, const protocol::KeyPair& keys, const std::string& hub_key,
                const protocol::LinkOptions& link, const std::string& monitor_endpoint,
                const std::string& hub_endpoint);

  // What the monitor reported that the session has not been told, one piece at a time: a failure
  // (every time, until the connection is dropped), else that it connected, then that it is
  // secured, each once.
  enum class News { kNone, kFailed, kConnected, kSecured };
  News TakeNews();

  struct Received {
    Status status;  // why the frame would not decode, if it would not
    protocol::Message message;
    size_t bytes = 0;
  };
  // The next frame waiting, decoded under `limits`; nullopt if none waits.
  std::optional<Received> Receive(const protocol::MessageLimits& limits);

  // Sends the session's last frame (its Bye), which gets up to a second to leave once the
  // connection is dropped; a dead link gives up sooner by its monitor.
  void SayFarewell(const std::string& frame);

  zmq::socket_t& socket() { return socket_; }
  protocol::LinkMonitor& monitor() { return monitor_; }

 private:
  zmq::socket_t socket_;
  protocol::LinkMonitor monitor_;
  protocol::RunHistory received_;  // the Delivers' runs, which compress the next
  bool connected_ = false;
  bool secured_ = false;
};

}  // namespace osrc::node
