#include "node/link_driver.h"

#include <atomic>
#include <memory>
#include <thread>

#include "node/config_commands.h"
#include "protocol/kj_log.h"
#include "protocol/link_monitor.h"
#include "protocol/socket.h"

namespace osrc::node {
namespace {

constexpr int kPollMs = 50;

std::string MonitorEndpoint() {
  static std::atomic<int> next{0};
  return "inproc://osrc.node.monitor." + std::to_string(next++);
}

// One connection to the hub, and what its monitor reported to the session so far.
struct Connection {
  Connection(Node& node, zmq::context_t& context)
      : socket(protocol::MakeDealer(context, node.keys(), node.config().hub_public_key,
                                    node.config().link)),
        monitor(context, socket, MonitorEndpoint()) {}
  zmq::socket_t socket;
  protocol::LinkMonitor monitor;
  protocol::RunHistory received;  // the Delivers' runs, which compress the next
  bool connected = false;
  bool secured = false;
};

class Driver {
 public:
  Driver(Node& node, zmq::context_t& context, spdlog::logger& log, LinkSession& session)
      : node_(node), context_(context), log_(log), session_(session) {
    limits_.max_frame_bytes = node.config().link.max_message_bytes;
    session_.SendFramesAt([this](const std::string& frame) { Send(frame); });
  }
  ~Driver() { session_.SendFramesAt(nullptr); }
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  void Run(const std::function<bool()>& should_stop) {
    protocol::KjLogRoute kj_log([&](std::string_view line) { log_.warn("capnp: {}", line); });
    Guarded([&] { return session_.Start(Now()); });
    while (!should_stop() && session_.state() != LinkSession::State::kFailed) {
      Wait();
      Guarded([&] { return Receive(); });
      Guarded([&] { return WatchMonitor(); });
      Guarded([&] { return session_.OnTick(Now()); });
    }
    Guarded([&] { return session_.Stop(Now()); });
  }

 private:
  uint64_t Now() { return node_.clock().NowMillis(); }

  // Runs one step of the session and carries out its effects; a fault of the store or the
  // sockets ends the connection as a failure of the session.
  void Guarded(const std::function<LinkEffects()>& step) {
    LinkEffects effects;
    try {
      effects = step();
    } catch (const std::exception& e) {
      log_.error("link: {}", e.what());
      effects = session_.OnFailure({ErrorCode::kInternal, e.what()}, Now());
    }
    Apply(std::move(effects));
  }

  void Apply(LinkEffects effects) {
    for (const LinkEffects::Line& line : effects.log) {
      switch (line.level) {
        case LinkEffects::Level::kDebug:
          SPDLOG_LOGGER_DEBUG(&log_, "{}", line.text);
          break;
        case LinkEffects::Level::kInfo:
          log_.info("{}", line.text);
          break;
        case LinkEffects::Level::kWarn:
          log_.warn("{}", line.text);
          break;
      }
    }
    if (effects.close && connection_ && !effects.farewell.empty()) {
      // Up to a second for the Bye to leave; a dead link gives up sooner by its monitor.
      connection_->socket.set(zmq::sockopt::linger, 1000);
      protocol::SendFrame(connection_->socket, effects.farewell);
    }
    if (effects.close) connection_.reset();
    if (effects.open) {
      Status opened = Open();
      if (!opened.ok()) return Apply(session_.OnFailure(opened, Now()));
    }
    for (const std::string& frame : effects.frames) Send(frame);
  }

  void Send(const std::string& frame) {
    if (!connection_ || !protocol::SendFrame(connection_->socket, frame)) {
      SPDLOG_LOGGER_DEBUG(&log_, "frame of {} bytes not sent: link not ready", frame.size());
    }
  }

  Status Open() {
    const std::string& endpoint = node_.config().hub_endpoint;
    try {
      connection_ = std::make_unique<Connection>(node_, context_);
      connection_->socket.connect(endpoint);
    } catch (const zmq::error_t& e) {
      connection_.reset();
      return {ErrorCode::kBadInput, std::string("cannot connect to the hub: ") + e.what(),
              endpoint};
    }
    return {};
  }

  void Wait() {
    if (!connection_) {
      uint64_t now = Now();
      uint64_t until = std::min(session_.retry_at(), now + kPollMs);
      if (until > now) std::this_thread::sleep_for(std::chrono::milliseconds(until - now));
      return;
    }
    // The monitor's events wake it too: the Hello leaves as soon as the connection is secured.
    zmq::pollitem_t items[] = {{connection_->socket.handle(), 0, ZMQ_POLLIN, 0},
                               {connection_->monitor.events().handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(kPollMs));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }

  // Feeds the session every frame waiting; their effects are applied as they come.
  LinkEffects Receive() {
    while (connection_) {
      std::optional<zmq::message_t> frame = protocol::ReceiveFrame(connection_->socket);
      if (!frame) break;
      protocol::Message message;
      Status status =
          protocol::DecodeMessage({static_cast<const uint8_t*>(frame->data()), frame->size()},
                                  limits_, &message, &connection_->received);
      LinkEffects effects = status.ok() ? session_.OnMessage(message, frame->size(), Now())
                                        : session_.OnFailure(status, Now());
      bool close = effects.close;
      Apply(std::move(effects));
      if (close) break;
    }
    return {};
  }

  LinkEffects WatchMonitor() {
    if (!connection_) return {};
    Connection& connection = *connection_;
    connection.monitor.Poll();
    const Status& failure = connection.monitor.failure();
    if (failure.code() == ErrorCode::kNotEnrolled) {
      return session_.OnFailure({ErrorCode::kNotEnrolled,
                                 failure.what() + "; enrol it at the hub with: " +
                                     EnrolCommand(node_.config().site, node_.keys().public_key),
                                 node_.config().hub_endpoint},
                                Now());
    }
    if (!failure.ok()) return session_.OnFailure(failure, Now());
    if (connection.monitor.connected() && !connection.connected) {
      connection.connected = true;
      Apply(session_.OnConnected(Now()));
    }
    if (connection_ && connection.monitor.handshake_done() && !connection.secured) {
      connection.secured = true;
      return session_.OnSecured(Now());
    }
    return {};
  }

  Node& node_;
  zmq::context_t& context_;
  spdlog::logger& log_;
  LinkSession& session_;
  std::unique_ptr<Connection> connection_;
  protocol::MessageLimits limits_;
};

}  // namespace

void DriveLink(Node& node, zmq::context_t& context, spdlog::logger& log, LinkSession& session,
               const std::function<bool()>& should_stop) {
  Driver(node, context, log, session).Run(should_stop);
}

}  // namespace osrc::node
