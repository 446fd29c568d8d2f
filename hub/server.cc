#include "hub/server.h"

#include <zmq.h>

#include "hub/delivery.h"
#include "hub/inbound.h"
#include "hub/sites.h"
#include "protocol/socket.h"
#include "storage/hlc.h"

namespace osrc::hub {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kResultsEndpoint = "inproc://osrc.hub.writer";
constexpr int kTimerMs = 500;

std::string StringOf(const zmq::message_t& m) { return std::string(m.to_string_view()); }

}  // namespace

Server::Server(Hub& hub, spdlog::logger& log) : hub_(hub), log_(log), context_(1) {
  limits_.max_frame_bytes = hub.config().link.max_message_bytes;
}

void Server::OnZap(zmq::socket_t& zap) {
  // ZAP request: version, request id, domain, address, identity, mechanism, credentials.
  std::vector<zmq::message_t> request;
  while (true) {
    zmq::message_t part;
    if (!zap.recv(part, zmq::recv_flags::dontwait)) break;
    bool more = part.more();
    request.push_back(std::move(part));
    if (!more) break;
  }
  std::string status = "400", text = "site key not enrolled", user;
  if (request.size() >= 7 && StringOf(request[5]) == "CURVE" && request[6].size() == 32) {
    char z85[41];
    zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
    storage::ReadTxn txn(hub_.store().env());
    if (auto site = FindSiteByKey(hub_.store(), txn, z85)) {
      status = "200";
      text = "OK";
      user = site->code;
    } else {
      log_.warn("refused connection from {}: key {} not enrolled", StringOf(request[3]), z85);
    }
  }
  std::string request_id = request.size() > 1 ? StringOf(request[1]) : "";
  // Every reply frame stays alive until sent: send from owned strings.
  const std::string frames[] = {"1.0", request_id, status, text, user, ""};
  for (size_t i = 0; i < 6; ++i) protocol::SendFrame(zap, frames[i], i < 5);
}

bool Server::Enrolled(const std::string& site) {
  storage::ReadTxn txn(hub_.store().env());
  auto entry = GetSite(hub_.store(), txn, site);
  return entry && !entry->revoked;
}

void Server::Send(const std::string& routing_id, const protocol::Message& message) {
  std::string frame = protocol::EncodeMessage(message);
  if (!protocol::SendFrame(router_, routing_id, true) || !protocol::SendFrame(router_, frame)) {
    SPDLOG_LOGGER_DEBUG(&log_, "dropped {} to a gone peer", protocol::MessageName(message));
  }
}

void Server::Refuse(const std::string& routing_id, const std::string& site, ErrorCode code,
                    const std::string& message) {
  log_.warn("site {}: refused: {}", site, message);
  protocol::ErrorReply reply{code, message, hub_.clock().NowMillis()};
  Send(routing_id, reply);
}

void Server::OnFrame(const std::string& routing_id, const std::string& site,
                     const zmq::message_t& frame) {
  Inbound inbound;
  InboundLimits limits{limits_, {}, hub_.clock().NowMillis(), hub_.config().max_skew_ms};
  Status status = DecodeInbound({static_cast<const uint8_t*>(frame.data()), frame.size()}, site,
                                hub_.schema(), limits, &inbound);
  if (!status.ok()) return Refuse(routing_id, site, status.code(), status.ToString());
  const protocol::Message& message = inbound.message;
  if (!Enrolled(site)) {
    sessions_.erase(routing_id);
    return Refuse(routing_id, site, ErrorCode::kNotEnrolled, "site key not enrolled at hub");
  }
  sessions_[routing_id].last_seen_ms = hub_.clock().NowMillis();
  if (auto* hello = std::get_if<protocol::Hello>(&message)) return OnHello(routing_id, site, *hello);
  if (auto* push = std::get_if<protocol::Push>(&message)) {
    return OnPush(routing_id, site, push->first, std::move(inbound.changes));
  }
  if (auto* ack = std::get_if<protocol::CursorAck>(&message)) {
    return OnCursorAck(routing_id, site, *ack);
  }
  if (auto* reoffer = std::get_if<protocol::Reoffer>(&message)) {
    std::vector<protocol::Change> changes;
    Status checked = CheckReoffer(*reoffer, hub_.sealer(), hub_.config().hub_id, limits, &changes);
    if (!checked.ok()) return Refuse(routing_id, site, checked.code(), checked.ToString());
    writer_->Submit(ReofferJob{routing_id, site, reoffer->token, std::move(changes)});
    return;
  }
  Refuse(routing_id, site, ErrorCode::kBadMessage,
         std::string("unexpected ") + std::string(protocol::MessageName(message)) + " from a site");
}

void Server::OnHello(const std::string& routing_id, const std::string& site,
                     const protocol::Hello& hello) {
  if (hello.version != protocol::kProtocolVersion) {
    return Refuse(routing_id, site, ErrorCode::kVersion,
                  "protocol version " + std::to_string(hello.version) + " not supported (hub speaks " +
                      std::to_string(protocol::kProtocolVersion) + ")");
  }
  if (hello.site != site) {
    return Refuse(routing_id, site, ErrorCode::kForbidden,
                  "hello names site " + hello.site + " but the key is enrolled as " + site);
  }
  if (hello.schema_hash != hub_.schema().hash()) {
    return Refuse(routing_id, site, ErrorCode::kSchemaMismatch,
                  "schema differs from the hub's: upgrade osrc-node");
  }
  uint64_t now = hub_.clock().NowMillis();
  int64_t skew = static_cast<int64_t>(storage::MillisOf(hello.clock)) - static_cast<int64_t>(now);
  if (static_cast<uint64_t>(std::abs(skew)) > hub_.config().max_skew_ms) {
    log_.warn("site {}: clock {} ms {} the hub's", site, std::abs(skew), skew > 0 ? "ahead of" : "behind");
  }
  storage::ReadTxn txn(hub_.store().env());
  auto entry = GetSite(hub_.store(), txn, site);
  Session& session = sessions_[routing_id];
  session.site = site;
  session.cursor = hello.epoch == epoch_ ? hello.hub_cursor : 0;
  session.deliver_outstanding = false;
  session.deliver_bytes = hello.deliver_bytes;
  protocol::Welcome welcome{entry ? entry->acked : 0, hub_.store().LogHead(txn), now, epoch_,
                            hub_.config().max_skew_ms};
  SPDLOG_LOGGER_DEBUG(&log_, "site {}: hello, log head {}, acked {}, cursor {}", site,
                      hello.log_head, welcome.acked, session.cursor);
  Send(routing_id, welcome);
  writer_->Submit(SiteUpdate{site, now, skew, session.cursor});
  SendDeliver(routing_id, session);
}

void Server::OnPush(const std::string& routing_id, const std::string& site, uint64_t first,
                    std::vector<protocol::Change> changes) {
  writer_->Submit(PushJob{routing_id, site, first, std::move(changes)});
}

void Server::OnCursorAck(const std::string& routing_id, const std::string& site,
                         const protocol::CursorAck& ack) {
  Session& session = sessions_[routing_id];
  session.site = site;
  session.cursor = std::max(session.cursor, ack.cursor);
  session.deliver_outstanding = false;
  if (ack.deliver_bytes > 0) session.deliver_bytes = ack.deliver_bytes;
  writer_->Submit(SiteUpdate{site, hub_.clock().NowMillis(), std::nullopt, session.cursor});
  SendDeliver(routing_id, session);
}

void Server::SendDeliver(const std::string& routing_id, Session& session) {
  if (session.deliver_outstanding) return;
  storage::ReadTxn txn(hub_.store().env());
  uint64_t head = hub_.store().LogHead(txn);
  if (session.cursor >= head) return;
  protocol::Deliver page = ReadDeliverPage(hub_.store(), txn, hub_.sealer(), session.site, session.cursor,
                                           hub_.config().link.deliver_page, session.deliver_bytes);
  session.deliver_outstanding = true;
  SPDLOG_LOGGER_DEBUG(&log_, "site {}: deliver {} entries up to {}", session.site,
                      page.changes.size(), page.last);
  Send(routing_id, page);
}

void Server::OnTimer() {
  uint64_t now = hub_.clock().NowMillis();
  uint64_t expiry = 3 * static_cast<uint64_t>(hub_.config().link.heartbeat_timeout_ms);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second.last_seen_ms > expiry) {
      it = sessions_.erase(it);
    } else {
      if (!it->second.site.empty()) SendDeliver(it->first, it->second);
      ++it;
    }
  }
}

Status Server::Run(const std::atomic<bool>& stop) {
  epoch_ = hub_.epoch();
  zmq::socket_t zap(context_, zmq::socket_type::rep);
  zap.set(zmq::sockopt::linger, 0);
  zap.bind(kZapEndpoint);
  zmq::socket_t results(context_, zmq::socket_type::pair);
  results.set(zmq::sockopt::linger, 0);
  results.bind(kResultsEndpoint);
  router_ = protocol::MakeRouter(context_, hub_.keys(), hub_.config().link);
  try {
    router_.bind(hub_.config().bind);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kIo, std::string("cannot bind: ") + e.what(), hub_.config().bind};
  }
  std::string endpoint = router_.get(zmq::sockopt::last_endpoint);
  writer_ = std::make_unique<Writer>(hub_, context_, kResultsEndpoint, log_);
  writer_->Start();
  log_.info("listening on {} (epoch set, {} sites enrolled)", endpoint, [&] {
    storage::ReadTxn txn(hub_.store().env());
    return ListSites(hub_.store(), txn).size();
  }());
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                             {zap.handle(), 0, ZMQ_POLLIN, 0},
                             {results.handle(), 0, ZMQ_POLLIN, 0}};
  uint64_t next_timer = hub_.clock().NowMillis() + kTimerMs;
  while (!stop.load()) {
    try {
      zmq::poll(items, 3, std::chrono::milliseconds(100));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    std::shared_lock guard(hub_.store_guard());
    if (items[1].revents & ZMQ_POLLIN) OnZap(zap);
    for (int i = 0; i < 256 && (items[0].revents & ZMQ_POLLIN); ++i) {
      zmq::message_t id, frame;
      if (!router_.recv(id, zmq::recv_flags::dontwait)) break;
      bool framed = id.more() && router_.recv(frame, zmq::recv_flags::dontwait).has_value();
      std::string site(framed ? frame.gets("User-Id") : "");
      while (frame.more()) {  // a site sends one frame per message: drop any extra parts
        zmq::message_t extra;
        if (!router_.recv(extra, zmq::recv_flags::dontwait)) break;
        frame.swap(extra);
        framed = false;
      }
      std::string routing_id = StringOf(id);
      if (!framed) {
        Refuse(routing_id, site, ErrorCode::kBadMessage, "a message is exactly one frame");
        continue;
      }
      try {
        OnFrame(routing_id, site, frame);
      } catch (const Error& e) {
        log_.error("site {}: {}", site, e.what());
        protocol::ErrorReply reply{e.code(), "hub failed: " + std::string(e.what())};
        Send(routing_id, reply);
      }
    }
    for (int i = 0; i < 256 && (items[2].revents & ZMQ_POLLIN); ++i) {
      zmq::message_t id, frame;
      if (!results.recv(id, zmq::recv_flags::dontwait)) break;
      if (!results.recv(frame)) break;
      protocol::SendFrame(router_, id.to_string_view(), true);
      protocol::SendFrame(router_, frame.to_string_view());
    }
    uint64_t now = hub_.clock().NowMillis();
    if (now >= next_timer) {
      OnTimer();
      next_timer = now + kTimerMs;
    }
  }
  log_.info("stopping");
  writer_->Stop();
  // Forward the replies of the last commits before closing.
  zmq::message_t id, frame;
  while (results.recv(id, zmq::recv_flags::dontwait) && results.recv(frame)) {
    protocol::SendFrame(router_, id.to_string_view(), true);
    protocol::SendFrame(router_, frame.to_string_view());
  }
  return {};
}

}  // namespace osrc::hub
