// The hub daemon's I/O thread: a CurveZMQ ROUTER whose ZAP handler admits enrolled site keys only,
// one small handler per message kind, and the writer's replies forwarded to their sites.
// The site of every message comes from the ZAP mapping (User-Id), never from its body.
// Run() owns all sockets and returns when `stop` is set.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <string>
#include <zmq.hpp>

#include "hub/hub.h"
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
  struct Session {
    std::string site;
    uint64_t cursor = 0;
    bool deliver_outstanding = false;
    size_t deliver_bytes = 0;  // the site's page limit; 0: none
    uint64_t last_seen_ms = 0;
  };

  void OnZap(zmq::socket_t& zap);
  void OnFrame(const std::string& routing_id, const std::string& site, const zmq::message_t& frame);
  void OnHello(const std::string& routing_id, const std::string& site, const protocol::Hello& hello);
  void OnPush(const std::string& routing_id, const std::string& site, uint64_t first,
              std::vector<protocol::Change> changes);
  void OnCursorAck(const std::string& routing_id, const std::string& site,
                   const protocol::CursorAck& ack);
  void OnTimer();
  void SendDeliver(const std::string& routing_id, Session& session);
  void Send(const std::string& routing_id, const protocol::Message& message);
  void Refuse(const std::string& routing_id, const std::string& site, ErrorCode code,
              const std::string& message);
  bool Enrolled(const std::string& site);

  Hub& hub_;
  spdlog::logger& log_;
  zmq::context_t context_;
  zmq::socket_t router_;
  std::unique_ptr<Writer> writer_;
  std::map<std::string, Session> sessions_;  // by routing id
  protocol::MessageLimits limits_;
  std::string epoch_;
};

}  // namespace osrc::hub
