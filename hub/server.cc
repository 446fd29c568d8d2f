#include "hub/server.h"

#include <zmq.h>

#include "hub/delivery.h"
#include "hub/inbound.h"
#include "hub/metrics.h"
#include "hub/sites.h"
#include "protocol/kj_log.h"
#include "protocol/socket.h"
#include "storage/hlc.h"

namespace osrc::hub {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kResultsEndpoint = "inproc://osrc.hub.writer";
constexpr int kTimerMs = 500;
// Deliver pages are read, sealed and compressed in turns of this long, between which the loop
// takes the sites' messages and forwards the writer's acknowledgements.
constexpr std::chrono::milliseconds kPageBudget{5};
// ZeroMQ's I/O threads: encryption and framing of the sites' connections. Each keeps its own
// timers, and libzmq cancels a heartbeat timer by a linear search of them: with thousands of
// sites one thread spends much of its time there.
constexpr int kIoThreads = 2;

std::string StringOf(const zmq::message_t& m) { return std::string(m.to_string_view()); }

std::string SizeOf(uint64_t bytes) {
  char text[32];
  if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024) {
    std::snprintf(text, sizeof text, "%.1f KiB", bytes / 1024.0);
  } else {
    std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
  return text;
}

}  // namespace

Server::Server(Hub& hub, spdlog::logger& log, LiveMetrics* metrics)
    : hub_(hub),
      seals_(hub.sealer()),
      log_(log),
      metrics_(metrics),
      context_(kIoThreads),
      online_(hub.dir()) {
  limits_.max_frame_bytes = hub.config().link.max_message_bytes;
}

std::vector<SiteEntry> Server::ReadableSites(const storage::Txn& txn) {
  std::vector<SiteEntry> sites;
  std::vector<std::string> codes;
  hub_.store().sites().Scan(txn, "", [&](std::string_view code, std::string_view) {
    codes.emplace_back(code);
    return true;
  });
  for (const std::string& code : codes) {
    try {
      if (auto entry = GetSite(hub_.store(), txn, code)) sites.push_back(std::move(*entry));
    } catch (const Error& e) {
      if (corrupt_sites_.insert(code).second) {
        log_.error("site {}: enrolment entry unreadable, site not admitted: {}", code, e.what());
      }
    }
  }
  return sites;
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
  if (request.empty()) return;
  std::string status = "400", text = "site key not enrolled", user;
  try {
    if (request.size() >= 7 && StringOf(request[5]) == "CURVE" && request[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(request[6].data()), 32);
      storage::ReadTxn txn(hub_.store().env());
      if (std::string site = SiteOfKey(txn, z85); !site.empty()) {
        status = "200";
        text = "OK";
        user = site + " " + z85;
      } else {
        log_.warn("refused connection from {}: key {} not enrolled", StringOf(request[3]), z85);
        if (metrics_ != nullptr) metrics_->CountRefused("not_enrolled_key");
      }
    }
  } catch (const std::exception& e) {
    log_.error("key admission failed: {}", e.what());
    status = "500";
    text = "hub failed";
    user.clear();
  }
  std::string request_id = request.size() > 1 ? StringOf(request[1]) : "";
  // Every reply frame stays alive until sent: send from owned strings.
  const std::string frames[] = {"1.0", request_id, status, text, user, ""};
  for (size_t i = 0; i < 6; ++i) protocol::SendFrame(zap, frames[i], i < 5);
}

std::string Server::SiteOfKey(const storage::Txn& txn, const std::string& key) {
  uint64_t version = EnrolmentVersion(hub_.store(), txn);
  if (site_of_key_version_ != version) {
    site_of_key_.clear();
    for (const SiteEntry& entry : ReadableSites(txn)) {
      if (!entry.revoked) site_of_key_[entry.public_key] = entry.code;
    }
    site_of_key_version_ = version;
  }
  auto hit = site_of_key_.find(key);
  return hit == site_of_key_.end() ? std::string() : hit->second;
}

bool Server::Enrolled(const std::string& site, const std::string& key) {
  storage::ReadTxn txn(hub_.store().env());
  return SiteOfKey(txn, key) == site;
}

uint64_t Server::LogHead() {
  storage::ReadTxn txn(hub_.store().env());
  return hub_.store().LogHead(txn);
}

void Server::Send(const std::string& routing_id, const protocol::Message& message) {
  auto it = sessions_.find(routing_id);
  Live* live = it == sessions_.end() ? nullptr : &it->second;
  protocol::RunCoding coding{.cache = &rebuilt_};
  if (live != nullptr) {
    coding.form = live->run_form;
    if (live->chains_runs) coding.history = &live->sent;
  }
  std::string frame = protocol::EncodeMessage(message, coding);
  if (live != nullptr) live->bytes_out += frame.size();
  if (!protocol::SendFrame(router_, routing_id, true) || !protocol::SendFrame(router_, frame)) {
    SPDLOG_LOGGER_DEBUG(&log_, "dropped {} to a gone peer", protocol::MessageName(message));
  }
}

void Server::Refuse(const std::string& routing_id, const std::string& site, ErrorCode code,
                    const std::string& message) {
  log_.warn("site {}: refused: {}", site, message);
  if (metrics_ != nullptr) metrics_->CountRefused(std::string(ErrorCodeName(code)));
  protocol::ErrorReply reply{code, message, hub_.clock().NowMillis()};
  Send(routing_id, reply);
}

Server::Live& Server::SessionOf(const std::string& routing_id, const std::string& site,
                                const std::string& key, uint64_t now_ms) {
  auto it = sessions_.find(routing_id);
  if (it != sessions_.end() && (it->second.session.site() != site || it->second.key != key)) {
    EndSession(it, "its connection now speaks for another key");
    it = sessions_.end();
  }
  if (it == sessions_.end()) {
    it = sessions_.try_emplace(routing_id, SiteSession(site, session_options_, now_ms), key, now_ms)
             .first;
    online_.SessionStarted(site, now_ms);
  }
  return it->second;
}

Server::Sessions::iterator Server::EndSession(Sessions::iterator it, std::string_view why) {
  const Live& live = it->second;
  double seconds = (hub_.clock().NowMillis() - live.started_ms) / 1000.0;
  log_.info(
      "site {}: session ended ({}) after {:.1f} s: received {} changes in {}, delivered {} "
      "changes in {}",
      live.session.site(), why, seconds, live.changes_in, SizeOf(live.bytes_in), live.changes_out,
      SizeOf(live.bytes_out));
  online_.SessionEnded(live.session.site());
  return sessions_.erase(it);
}

void Server::EndSession(const std::string& routing_id, std::string_view why) {
  if (auto it = sessions_.find(routing_id); it != sessions_.end()) EndSession(it, why);
}

void Server::EndStaleSessions(const storage::Txn& txn) {
  uint64_t version = EnrolmentVersion(hub_.store(), txn);
  if (sessions_.empty() || version == sessions_checked_version_) return;
  sessions_checked_version_ = version;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (SiteOfKey(txn, it->second.key) == it->second.session.site()) {
      ++it;
      continue;
    }
    std::string routing_id = it->first, site = it->second.session.site();
    it = EndSession(it, "key no longer enrolled");
    Refuse(routing_id, site, ErrorCode::kNotEnrolled, "site key not enrolled at hub");
  }
}

void Server::Execute(const std::string& routing_id, Live& live, SiteSession::Output output) {
  const std::string& site = live.session.site();
  for (const std::string& warning : output.warnings) log_.warn("{}", warning);
  if (output.refused) {
    log_.warn("site {}: refused: {}", site, output.refused->message);
    if (metrics_ != nullptr)
      metrics_->CountRefused(std::string(ErrorCodeName(output.refused->code)));
  }
  for (SiteSession::Step& step : output.steps) {
    if (auto* send = std::get_if<SiteSession::Send>(&step)) {
      Send(routing_id, send->message);
    } else if (auto* push = std::get_if<SiteSession::ApplyPush>(&step)) {
      writer_->Submit(PushJob{routing_id, site, push->first, std::move(push->changes)});
    } else if (auto* back = std::get_if<SiteSession::TakeBack>(&step)) {
      writer_->Submit(ReofferJob{routing_id, site, back->token, std::move(back->changes)});
    } else if (auto* progress = std::get_if<SiteSession::RecordProgress>(&step)) {
      writer_->Submit(SiteUpdate{site, progress->last_contact_ms, progress->clock_skew_ms,
                                 progress->cursor, progress->report});
    } else {
      pages_due_.push_back({routing_id, std::get<SiteSession::ReadDeliverPage>(step)});
    }
  }
}

bool Server::SendPage(const std::string& routing_id, Live& live,
                      const SiteSession::ReadDeliverPage& read) {
  const std::string& site = live.session.site();
  protocol::Deliver page;
  try {
    storage::ReadTxn txn(hub_.store().env());
    page = ReadDeliverPage(hub_.store(), txn, seals_, site, read.cursor, read.max_entries,
                           read.max_bytes);
    CheckDeliverPage(page);
  } catch (const Error& e) {
    log_.error("site {}: cannot deliver after hub sequence {}, session dropped: {}", site,
               read.cursor, e.what());
    Send(routing_id,
         protocol::ErrorReply{e.code(), "hub failed to deliver: " + std::string(e.what()),
                              hub_.clock().NowMillis()});
    return false;
  }
  SPDLOG_LOGGER_DEBUG(&log_, "site {}: deliver {} entries up to {}", site, page.changes.size(),
                      page.last);
  live.changes_out += page.changes.size();
  if (metrics_ != nullptr) metrics_->AddDelivered(site, page.changes.size());
  size_t raw_bytes = 0;
  for (const std::string& change : page.changes) raw_bytes += change.size();
  Send(routing_id, page);
  Execute(routing_id, live, live.session.OnPageSent(page.last, raw_bytes, page.hub_head));
  return true;
}

void Server::ServePages(std::chrono::milliseconds budget) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  while (!pages_due_.empty() && std::chrono::steady_clock::now() < deadline) {
    PageDue due = std::move(pages_due_.front());
    pages_due_.pop_front();
    auto it = sessions_.find(due.routing_id);
    if (it == sessions_.end() || it->second.session.closed()) continue;
    bool served = false;
    try {
      served = SendPage(due.routing_id, it->second, due.read);
    } catch (const std::exception& e) {
      log_.error("site {}: session dropped: {}", it->second.session.site(), e.what());
    }
    if (!served) EndSession(it, "hub failed to serve it");
  }
}

void Server::Drive(const std::string& routing_id, Live& live, SiteSession::Output output,
                   std::string_view why) {
  Execute(routing_id, live, std::move(output));
  if (live.session.closed()) EndSession(routing_id, why);
}

void Server::OnFrame(const std::string& routing_id, const std::string& site, const std::string& key,
                     const zmq::message_t& frame) {
  uint64_t now = hub_.clock().NowMillis();
  Inbound inbound;
  InboundLimits limits{limits_, now, hub_.config().max_skew_ms};
  // What this connection carried before: its session's, or nothing for the first message.
  protocol::RunHistory first_received;
  auto found = sessions_.find(routing_id);
  protocol::RunHistory* received =
      found == sessions_.end() ? &first_received : &found->second.received;
  Status status = DecodeInbound({static_cast<const uint8_t*>(frame.data()), frame.size()}, site,
                                hub_.schema(), limits, &inbound, received);
  if (!status.ok()) return Refuse(routing_id, site, status.code(), status.ToString());
  auto session_of = [&]() -> Live& {
    Live& live = SessionOf(routing_id, site, key, now);
    if (received == &first_received) live.received = std::move(first_received);
    return live;
  };
  protocol::Message& message = inbound.message;
  if (!Enrolled(site, key)) {
    EndSession(routing_id, "key no longer enrolled");
    return Refuse(routing_id, site, ErrorCode::kNotEnrolled, "site key not enrolled at hub");
  }
  if (auto* hello = std::get_if<protocol::Hello>(&message)) {
    HubView view;
    {
      storage::ReadTxn txn(hub_.store().env());
      if (auto entry = GetSite(hub_.store(), txn, site)) view.acked = entry->acked;
      view.log_head = hub_.store().LogHead(txn);
    }
    Live& live = session_of();
    live.bytes_in += frame.size();
    live.chains_runs = hello->version >= 2;
    live.run_form = protocol::RunFormOf(hello->version);
    SPDLOG_LOGGER_DEBUG(&log_, "site {}: hello, log head {}, acked {}", site, hello->log_head,
                        view.acked);
    return Drive(routing_id, live, live.session.OnHello(*hello, now, view));
  }
  if (auto* push = std::get_if<protocol::Push>(&message)) {
    Live& live = session_of();
    live.bytes_in += frame.size();
    live.changes_in += inbound.changes.size();
    if (metrics_ != nullptr) metrics_->AddReceived(site, inbound.changes.size());
    return Drive(routing_id, live,
                 live.session.OnPush(push->first, std::move(inbound.changes), now));
  }
  if (auto* ack = std::get_if<protocol::CursorAck>(&message)) {
    Live& live = session_of();
    live.bytes_in += frame.size();
    return Drive(routing_id, live, live.session.OnCursorAck(*ack, now, LogHead()));
  }
  if (std::holds_alternative<protocol::Bye>(message)) {
    auto it = sessions_.find(routing_id);
    if (it == sessions_.end()) return;
    it->second.bytes_in += frame.size();
    return Drive(routing_id, it->second, it->second.session.OnBye(now), "site said bye");
  }
  if (auto* reoffer = std::get_if<protocol::Reoffer>(&message)) {
    std::vector<protocol::Change> changes;
    Status checked = CheckReoffer(*reoffer, hub_.sealer(), hub_.config().hub_id, limits, &changes);
    if (!checked.ok()) return Refuse(routing_id, site, checked.code(), checked.ToString());
    Live& live = session_of();
    live.bytes_in += frame.size();
    return Drive(routing_id, live, live.session.OnReoffer(reoffer->token, std::move(changes), now));
  }
  Refuse(routing_id, site, ErrorCode::kBadMessage,
         std::string("unexpected ") + std::string(protocol::MessageName(message)) + " from a site");
}

void Server::OnTimer() {
  uint64_t now = hub_.clock().NowMillis();
  uint64_t head = 0;
  {
    storage::ReadTxn txn(hub_.store().env());
    head = hub_.store().LogHead(txn);
    EndStaleSessions(txn);
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    Live& live = it->second;
    std::string why = "expired";
    bool keep = false;
    try {
      Execute(it->first, live, live.session.OnTick(now, head));
      keep = !live.session.closed();
    } catch (const std::exception& e) {
      log_.error("site {}: session dropped: {}", live.session.site(), e.what());
      why = "dropped on a fault";
    }
    it = keep ? std::next(it) : EndSession(it, why);
  }
  if (Status written = online_.Flush(); !written.ok()) {
    log_.warn("cannot record which sites are online: {}", written.ToString());
  }
}

void Server::ForwardResults(zmq::socket_t& results, size_t max) {
  zmq::message_t id, frame;
  for (size_t i = 0; i < max && results.recv(id, zmq::recv_flags::dontwait) && results.recv(frame);
       ++i) {
    if (auto it = sessions_.find(StringOf(id)); it != sessions_.end()) {
      it->second.bytes_out += frame.size();
    }
    protocol::SendFrame(router_, id.to_string_view(), true);
    protocol::SendFrame(router_, frame.to_string_view());
  }
}

Status Server::Run(const std::atomic<bool>& stop) {
  protocol::KjLogRoute kj_log([&](std::string_view line) { log_.warn("capnp: {}", line); });
  session_options_ = SessionOptionsOf(hub_, /*bundle=*/false);
  zmq::socket_t zap(context_, zmq::socket_type::rep);
  zap.set(zmq::sockopt::linger, 0);
  zap.bind(kZapEndpoint);
  zmq::socket_t results(context_, zmq::socket_type::pair);
  results.set(zmq::sockopt::linger, 0);
  results.bind(kResultsEndpoint);
  router_ = protocol::MakeRouter(context_, hub_.keys(), hub_.config().link);
  std::string endpoint;
  OSRC_RETURN_IF_ERROR(protocol::Bind(router_, hub_.config().bind, &endpoint));
  OSRC_RETURN_IF_ERROR(WriteBoundEndpoint(hub_.dir(), endpoint));  // bind on port * reads it
  writer_ = std::make_unique<Writer>(hub_, context_, kResultsEndpoint, log_, metrics_);
  writer_->Start();
  size_t enrolled = 0;
  {
    storage::ReadTxn txn(hub_.store().env());
    enrolled = ReadableSites(txn).size();
  }
  log_.info("listening on {} (epoch set, {} sites enrolled)", endpoint, enrolled);
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                             {zap.handle(), 0, ZMQ_POLLIN, 0},
                             {results.handle(), 0, ZMQ_POLLIN, 0}};
  uint64_t next_timer = hub_.clock().NowMillis() + kTimerMs;
  Status outcome;
  while (!stop.load()) {
    if (writer_->failed()) {
      outcome = {ErrorCode::kInternal, "the writer thread failed; see the log above"};
      break;
    }
    try {
      zmq::poll(items, 3, std::chrono::milliseconds(pages_due_.empty() ? 100 : 0));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      throw;
    }
    try {
      std::shared_lock guard(hub_.store_guard());
      if (items[1].revents & ZMQ_POLLIN) OnZap(zap);
      for (int i = 0; i < 256 && (items[0].revents & ZMQ_POLLIN); ++i) {
        zmq::message_t id, frame;
        if (!router_.recv(id, zmq::recv_flags::dontwait)) break;
        bool framed = id.more() && router_.recv(frame, zmq::recv_flags::dontwait).has_value();
        std::string user(framed ? frame.gets("User-Id") : "");  // "SITE KEY"
        std::string site = user.substr(0, user.find(' '));
        std::string key = user.size() > site.size() ? user.substr(site.size() + 1) : "";
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
          OnFrame(routing_id, site, key, frame);
        } catch (const std::exception& e) {
          // The message and its session are dropped; every other site is served on.
          log_.error("site {}: message dropped, session ended: {}", site, e.what());
          EndSession(routing_id, "dropped on a fault");
          ErrorCode code = ErrorCode::kInternal;
          if (const auto* error = dynamic_cast<const Error*>(&e)) code = error->code();
          Send(routing_id, protocol::ErrorReply{code, "hub failed: " + std::string(e.what()),
                                                hub_.clock().NowMillis()});
        }
      }
      if (items[2].revents & ZMQ_POLLIN) ForwardResults(results, 256);
      ServePages(kPageBudget);
      uint64_t now = hub_.clock().NowMillis();
      if (now >= next_timer) {
        next_timer = now + kTimerMs;
        OnTimer();
      }
    } catch (const std::exception& e) {
      log_.error("hub loop: {}; serving on", e.what());
    }
  }
  log_.info("stopping");
  writer_->Stop();
  ForwardResults(results, SIZE_MAX);  // the replies of the last commits
  for (auto it = sessions_.begin(); it != sessions_.end();) it = EndSession(it, "hub stopping");
  online_.Clear();
  return outcome;
}

}  // namespace osrc::hub
