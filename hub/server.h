// The hub daemon's I/O thread: a CurveZMQ ROUTER whose ZAP handler admits enrolled site keys only,
// one small handler per message kind, and the writer's replies forwarded to their sites.
// The site of every message comes from the ZAP mapping (User-Id "SITE KEY"), never from its body;
// a message whose key is no longer the site's enrolled key ends its session (re-enrolment,
// revocation). Each session ends with one info line: site, changes and bytes each way, duration.
// Each routing id has a SiteSession (hub/site_session.h) that this loop drives. Every handler, the
// timer and the loop catch at their top: a fault (a corrupt stored entry) is logged naming the
// site and entry, and drops only the message or session at fault. Run() owns all sockets and
// returns when `stop` is set or the writer has failed.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <zmq.hpp>

#include "hub/hub.h"
#include "hub/online.h"
#include "hub/seal_cache.h"
#include "hub/site_session.h"
#include "hub/sites.h"
#include "hub/writer.h"
#include "protocol/messages.h"

namespace osrc::hub {

class LiveMetrics;

class Server {
 public:
  // `metrics`, if set, counts changes received and delivered, refusals and commit times.
  Server(Hub& hub, spdlog::logger& log, LiveMetrics* metrics = nullptr);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, serves until `stop` becomes true, then stops the writer after its queue drains.
  Status Run(const std::atomic<bool>& stop);

 private:
  void OnZap(zmq::socket_t& zap);
  // A site's connection: its protocol core, the key it connected with, and what it carried.
  struct Live {
    Live(SiteSession session, std::string key, uint64_t started_ms)
        : session(std::move(session)), key(std::move(key)), started_ms(started_ms) {}
    SiteSession session;
    std::string key;
    uint64_t started_ms = 0;
    uint64_t changes_in = 0, changes_out = 0, bytes_in = 0, bytes_out = 0;
    protocol::RunHistory received, sent;
    bool chains_runs = false;  // the site speaks protocol version 2: Delivers use `sent`
    protocol::RunForm run_form = protocol::RunForm::kChangeRun;  // what the site's version reads
  };
  using Sessions = std::map<std::string, Live>;  // by routing id
  // A Deliver page a session asked for, waiting its turn.
  struct PageDue {
    std::string routing_id;
    SiteSession::ReadDeliverPage read;
  };

  void OnFrame(const std::string& routing_id, const std::string& site, const std::string& key,
               const zmq::message_t& frame);
  void OnTimer();
  // Forwards up to `max` of the writer's replies [routing id, frame] to their sites.
  void ForwardResults(zmq::socket_t& results, size_t max);
  // The session of `routing_id`, made for `site` if new.
  Live& SessionOf(const std::string& routing_id, const std::string& site, const std::string& key,
                  uint64_t now_ms);
  // Logs the session's line and forgets it; returns the next session.
  Sessions::iterator EndSession(Sessions::iterator it, std::string_view why);
  void EndSession(const std::string& routing_id, std::string_view why);
  // Ends the sessions whose key is no longer their site's enrolled key; looks only when the
  // enrolment version has moved since it last did.
  void EndStaleSessions(const storage::Txn& txn);
  // Runs a session's steps; Deliver pages join the queue of pages due.
  void Execute(const std::string& routing_id, Live& live, SiteSession::Output output);
  // Reads and sends the pages due, in turn, for about `budget`: a reference update to every
  // site is served between the sites' messages and acknowledgements, not before them.
  void ServePages(std::chrono::milliseconds budget);
  // Reads and sends one page; false if the session must end (a store fault while reading).
  bool SendPage(const std::string& routing_id, Live& live,
                const SiteSession::ReadDeliverPage& read);
  // Runs `output` and drops the session of `routing_id` if it closed (`why`, for the log).
  void Drive(const std::string& routing_id, Live& live, SiteSession::Output output,
             std::string_view why = "closed");
  void Send(const std::string& routing_id, const protocol::Message& message);
  void Refuse(const std::string& routing_id, const std::string& site, ErrorCode code,
              const std::string& message);
  // Whether `key` is `site`'s enrolled key (SiteOfKey's index: no site entry decoded).
  bool Enrolled(const std::string& site, const std::string& key);
  // The site enrolled with `key` (not revoked), or empty. From an index of the enrolled keys,
  // read again only when the enrolment version has moved: a storm of connections, or of unknown
  // keys, costs one meta read each instead of decoding every site's entry.
  std::string SiteOfKey(const storage::Txn& txn, const std::string& key);
  // The enrolled sites whose entries decode; a corrupt entry is logged once and skipped.
  std::vector<SiteEntry> ReadableSites(const storage::Txn& txn);
  uint64_t LogHead();

  Hub& hub_;
  SealCache seals_;  // of the pages this thread reads
  spdlog::logger& log_;
  LiveMetrics* metrics_;
  zmq::context_t context_;
  zmq::socket_t router_;
  std::unique_ptr<Writer> writer_;
  Sessions sessions_;
  std::deque<PageDue> pages_due_;  // each session's next page, in the order they were asked for
  OnlineRegister online_;
  protocol::MessageLimits limits_;
  protocol::RebuildCache rebuilt_;  // the hub changes Deliver pages carry, checked once
  SiteSessionOptions session_options_;
  std::set<std::string> corrupt_sites_;  // site entries already reported corrupt
  std::map<std::string, std::string> site_of_key_;
  std::optional<uint64_t> site_of_key_version_;
  std::optional<uint64_t> sessions_checked_version_;  // of the last EndStaleSessions look
};

}  // namespace osrc::hub
