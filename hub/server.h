// The hub daemon's I/O thread: a CurveZMQ ROUTER whose ZAP handler admits enrolled site keys only,
// one small handler per message kind, and the writer's replies forwarded to their sites.
// The site of every message comes from the ZAP mapping (User-Id), never from its body.
// Each routing id has a SiteSession (hub/site_session.h) that this loop drives. Every handler, the
// timer and the loop catch at their top: a fault (a corrupt stored entry) is logged naming the
// site and entry, and drops only the message or session at fault. Run() owns all sockets and
// returns when `stop` is set or the writer has failed.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <zmq.hpp>

#include "hub/hub.h"
#include "hub/site_session.h"
#include "hub/sites.h"
#include "hub/writer.h"
#include "protocol/messages.h"

namespace osrc::hub {

class Server {
 public:
  Server(Hub& hub, spdlog::logger& log);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, serves until `stop` becomes true, then stops the writer after its queue drains.
  Status Run(const std::atomic<bool>& stop);

 private:
  void OnZap(zmq::socket_t& zap);
  void OnFrame(const std::string& routing_id, const std::string& site, const zmq::message_t& frame);
  void OnTimer();
  // Forwards up to `max` of the writer's replies [routing id, frame] to their sites.
  void ForwardResults(zmq::socket_t& results, size_t max);
  // The session of `routing_id`, made for `site` if new.
  SiteSession& SessionOf(const std::string& routing_id, const std::string& site, uint64_t now_ms);
  // Runs a session's steps; false if the session must end (a store fault while serving it).
  bool Execute(const std::string& routing_id, SiteSession& session, SiteSession::Output output);
  // Runs `output` and drops the session of `routing_id` if it ended.
  void Drive(const std::string& routing_id, SiteSession& session, SiteSession::Output output);
  void Send(const std::string& routing_id, const protocol::Message& message);
  void Refuse(const std::string& routing_id, const std::string& site, ErrorCode code,
              const std::string& message);
  bool Enrolled(const std::string& site);
  // The enrolled sites whose entries decode; a corrupt entry is logged once and skipped.
  std::vector<SiteEntry> ReadableSites(const storage::Txn& txn);
  uint64_t LogHead();

  Hub& hub_;
  spdlog::logger& log_;
  zmq::context_t context_;
  zmq::socket_t router_;
  std::unique_ptr<Writer> writer_;
  std::map<std::string, SiteSession> sessions_;  // by routing id
  protocol::MessageLimits limits_;
  SiteSessionOptions session_options_;
  std::set<std::string> corrupt_sites_;  // site entries already reported corrupt
};

}  // namespace osrc::hub
