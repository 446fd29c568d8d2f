#include "node/link_driver.h"

#include <atomic>
#include <memory>
#include <thread>

#include "node/config_commands.h"
#include "node/hub_connection.h"
#include "protocol/kj_log.h"
#include "protocol/socket.h"

namespace osrc::node {
namespace {

constexpr int kPollMs = 50;

std::string MonitorEndpoint() {
  static std::atomic<int> next{0};
  return "inproc://osrc.node.monitor." + std::to_string(next++);
}

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
      connection_->SayFarewell(effects.farewell);
    }
    if (effects.close) connection_.reset();
    if (effects.open) {
      Status opened = Open();
      if (!opened.ok()) return Apply(session_.OnFailure(opened, Now()));
    }
    for (const std::string& frame : effects.frames) Send(frame);
  }

  void Send(const std::string& frame) {
    if (!connection_ || !protocol::SendFrame(connection_->socket(), frame)) {
      SPDLOG_LOGGER_DEBUG(&log_, "frame of {} bytes not sent: link not ready", frame.size());
    }
  }

  Status Open() {
    const std::string& endpoint = node_.config().hub_endpoint;
    try {
      connection_ =
          std::make_unique<HubConnection>(context_, node_.keys(), node_.config().hub_public_key,
                                          node_.config().link, MonitorEndpoint(), endpoint);
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
    zmq::pollitem_t items[] = {{connection_->socket().handle(), 0, ZMQ_POLLIN, 0},
                               {connection_->monitor().events().handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(kPollMs));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
  }

  // Feeds the session every frame waiting; their effects are applied as they come.
  LinkEffects Receive() {
    while (connection_) {
      std::optional<HubConnection::Received> in = connection_->Receive(limits_);
      if (!in) break;
      LinkEffects effects = in->status.ok() ? session_.OnMessage(in->message, in->bytes, Now())
                                            : session_.OnFailure(in->status, Now());
      bool close = effects.close;
      Apply(std::move(effects));
      if (close) break;
    }
    return {};
  }

  LinkEffects WatchMonitor() {
    while (connection_) {
      switch (connection_->TakeNews()) {
        case HubConnection::News::kNone:
          return {};
        case HubConnection::News::kFailed: {
          const Status& failure = connection_->monitor().failure();
          if (failure.code() != ErrorCode::kNotEnrolled) return session_.OnFailure(failure, Now());
          return session_.OnFailure({ErrorCode::kNotEnrolled,
                                     failure.what() + "; enrol it at the hub with: " +
                                         EnrolCommand(node_.config().site, node_.keys().public_key),
                                     node_.config().hub_endpoint},
                                    Now());
        }
        case HubConnection::News::kConnected:
          Apply(session_.OnConnected(Now()));
          break;
        case HubConnection::News::kSecured:
          return session_.OnSecured(Now());
      }
    }
    return {};
  }

  Node& node_;
  zmq::context_t& context_;
  spdlog::logger& log_;
  LinkSession& session_;
  std::unique_ptr<HubConnection> connection_;
  protocol::MessageLimits limits_;
};

}  // namespace

void DriveLink(Node& node, zmq::context_t& context, spdlog::logger& log, LinkSession& session,
               const std::function<bool()>& should_stop) {
  Driver(node, context, log, session).Run(should_stop);
}

}  // namespace osrc::node
