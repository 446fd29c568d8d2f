// The web console of the running hub: HTTP on its own socket (cpp-httplib, a pool of request
// threads), started by RunDaemon beside the sync server and stopped with it. Pages (Sites,
// Conflicts, Reference data, Statistics, Operators) for logged-in operators; changes (resolve,
// import, operators) for admins only, each form carrying the session's CSRF token; /metrics for any
// operator with HTTP basic credentials. Every handler catches at its top: a fault answers 500
// and is logged, never ends the daemon. Store reads hold the hub's store guard shared, store
// writes hold it exclusively, so a map growth never meets another thread's transaction.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <thread>

#include "base/error.h"
#include "hub/console_auth.h"
#include "hub/console_pages.h"
#include "hub/console_statistics.h"
#include "hub/hub.h"
#include "hub/metrics.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace osrc::hub {

// `<dir>/console.address` holds "HOST:PORT" the console bound, written once it listens.
inline constexpr std::string_view kConsoleAddressFile = "console.address";
// Conflicts shown on one page of the console.
inline constexpr size_t kConflictsPerPage = 500;

class ConsoleServer {
 public:
  // `live` (may be null): the daemon's counters, for /metrics and the chart.
  ConsoleServer(Hub& hub, const LiveMetrics* live, spdlog::logger& log,
                ConsoleAuthOptions auth = {});
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  // Binds `bind` (HOST:PORT, port 0: any free one), writes the address file and serves on a
  // thread of its own until Stop.
  Status Start(const std::string& bind);
  void Stop();
  const std::string& address() const { return address_; }

 private:
  void Route();
  void Handle(const httplib::Request& req, httplib::Response& res);
  // The login form with a fresh token in its cookie; the login checks both agree.
  void LoginForm(const httplib::Request& req, httplib::Response& res, std::string_view error);
  void Login(const httplib::Request& req, httplib::Response& res);
  void Metrics(const httplib::Request& req, httplib::Response& res);
  // Serves a page or an action for the session `session`.
  void Page(const httplib::Request& req, httplib::Response& res, const ConsoleSession& session);
  std::string SitesPage(const PageContext& ctx);
  std::string ConflictsPage(const httplib::Request& req, PageContext& ctx);
  std::string ReferencePage(PageContext& ctx);
  std::string OperatorsPage(PageContext& ctx);
  // Statistics: the page, and its report as a CSV download. Each report run is audited.
  void StatisticsPage(const httplib::Request& req, httplib::Response& res, PageContext& ctx);
  void StatisticsCsv(const httplib::Request& req, httplib::Response& res, PageContext& ctx);
  Status RunReport(const StatisticsForm& form, const PageContext& ctx, StatisticsResult* result);
  // The actions; each sets ctx.notice or ctx.error and answers the page it came from.
  std::string Resolve(const httplib::Request& req, PageContext& ctx);
  std::string Import(const httplib::Request& req, PageContext& ctx);
  std::string AddOperatorAction(const httplib::Request& req, PageContext& ctx);
  std::string RemoveOperatorAction(const httplib::Request& req, PageContext& ctx);

  Hub& hub_;
  const LiveMetrics* live_;
  spdlog::logger& log_;
  ConsoleAuthOptions auth_options_;
  ConsoleAuth auth_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string address_;
};

}  // namespace osrc::hub
