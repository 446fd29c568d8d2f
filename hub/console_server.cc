#include "hub/console_server.h"

#include <httplib.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <shared_mutex>

#include "base/text.h"
#include "hub/audit.h"
#include "hub/commands.h"
#include "hub/conflicts_command.h"
#include "hub/console_pages.h"
#include "hub/console_statistics.h"
#include "hub/received.h"
#include "hub/status.h"
#include "replica/data_folder.h"
#include "report/report_format.h"

namespace osrc::hub {
namespace {

constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr size_t kMaxUploadBytes = 256u << 20;  // a reference file; larger goes by the CLI
constexpr int kRequestThreads = 8;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void Wait(uint64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void Redirect(httplib::Response& res, const std::string& to) {
  res.status = 303;
  res.set_header("Location", to);
}

void Refuse(httplib::Response& res, int code, const std::string& why) {
  res.status = code;
  res.set_content("<!DOCTYPE html><meta charset=\"utf-8\"><title>" + std::to_string(code) +
                      "</title><p>" + HtmlEscape(why) + "</p><p><a href=\"/sites\">Back</a></p>",
                  kHtml);
}

// The name and password of an "Authorization: Basic ..." header; false if there is none.
bool BasicCredentials(const httplib::Request& req, std::string* name, std::string* password) {
  std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (header.rfind(kBasic, 0) != 0) return false;
  std::string encoded = header.substr(kBasic.size());
  std::string decoded(encoded.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        encoded.c_str(), encoded.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  decoded.resize(length);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *name = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

StatisticsForm FormOf(const httplib::Request& req) {
  StatisticsForm form{req.get_param_value("report"), {},
                      req.get_param_value("from"),   req.get_param_value("to"),
                      req.get_param_value("site"),   req.get_param_value("k")};
  for (size_t i = 0; i < req.get_param_value_count("by"); ++i) {
    form.by.push_back(req.get_param_value("by", i));
  }
  return form;
}

}  // namespace

ConsoleServer::ConsoleServer(Hub& hub, const LiveMetrics* live, spdlog::logger& log,
                             ConsoleAuthOptions auth)
    : hub_(hub), live_(live), log_(log), auth_options_(auth), auth_(auth) {}

ConsoleServer::~ConsoleServer() { Stop(); }

Status ConsoleServer::Start(const std::string& bind) {
  size_t colon = bind.rfind(':');
  if (colon == std::string::npos) return {ErrorCode::kBadInput, "expected HOST:PORT", bind};
  std::string host = bind.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = std::stoi(bind.substr(colon + 1));
  http_ = std::make_unique<httplib::Server>();
  http_->new_task_queue = [] { return new httplib::ThreadPool(kRequestThreads); };
  http_->set_payload_max_length(kMaxUploadBytes);
  Route();
  int bound =
      port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    return {ErrorCode::kIo, "cannot listen (address in use, or not this machine's?)",
            "console " + bind};
  }
  address_ =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(bound);
  OSRC_RETURN_IF_ERROR(replica::WriteFileDurably(hub_.dir(), kConsoleAddressFile, address_ + "\n"));
  thread_ = std::thread([this] {
    try {
      http_->listen_after_bind();
    } catch (const std::exception& e) {
      log_.error("console stopped by a fault: {}", e.what());
    }
  });
  log_.info("console at http://{}", address_);
  return {};
}

void ConsoleServer::Stop() {
  if (!http_) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

void ConsoleServer::Route() {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    try {
      Handle(req, res);
    } catch (const std::exception& e) {
      log_.error("console {} {}: {}", req.method, req.path, e.what());
      Refuse(res, 500, std::string("internal error: ") + e.what());
    }
  };
  http_->Get(".*", handler);
  http_->Post(".*", handler);
  http_->set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        log_.error("console {} {}: unexpected fault", req.method, req.path);
        Refuse(res, 500, "internal error");
      });
}

void ConsoleServer::Handle(const httplib::Request& req, httplib::Response& res) {
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                 "form-action 'self'; frame-ancestors 'none'");
  res.set_header("Cache-Control", "no-store");
  if (req.path == "/metrics" && req.method == "GET") return Metrics(req, res);
  if (req.path == "/login") {
    if (req.method == "POST") return Login(req, res);
    return LoginForm(req, res, "");
  }
  std::string id = CookieValue(req.get_header_value("Cookie"), kSessionCookie);
  std::optional<ConsoleSession> session = id.empty() ? std::nullopt : auth_.Find(id, NowMs());
  if (!session) {
    if (req.method == "GET") return Redirect(res, "/login");
    return Refuse(res, 403, "not logged in (or the session expired): log in again");
  }
  // An upload's form is multipart: its fields come as parts.
  std::string token = req.is_multipart_form_data() ? req.get_file_value("csrf").content
                                                   : req.get_param_value("csrf");
  if (req.method == "POST" && !TokensEqual(token, session->csrf)) {
    log_.warn("console: {} {} by {} refused: missing or wrong CSRF token", req.method, req.path,
              session->name);
    return Refuse(res, 403, "refused: the form's CSRF token is missing or wrong; reload the page");
  }
  Page(req, res, *session);
}

void ConsoleServer::LoginForm(const httplib::Request& req, httplib::Response& res,
                              std::string_view error) {
  // One token per browser: every tab and request (a favicon sent here too) sees the same one.
  std::string token = CookieValue(req.get_header_value("Cookie"), kLoginCookie);
  if (token.size() != 64 || !std::all_of(token.begin(), token.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
      })) {
    token = RandomToken();
  }
  res.set_header("Set-Cookie", LoginCookie(token));
  res.set_content(LoginPageHtml(error, token), kHtml);
}

void ConsoleServer::Login(const httplib::Request& req, httplib::Response& res) {
  if (!TokensEqual(req.get_param_value("csrf"),
                   CookieValue(req.get_header_value("Cookie"), kLoginCookie))) {
    res.status = 403;
    return LoginForm(req, res, "the login form expired or came from elsewhere: log in again here");
  }
  std::string name = req.get_param_value("name");
  std::string password = req.get_param_value("password");
  // This request's thread waits; the pool's others serve everyone else meanwhile.
  Wait(auth_.DelayFor(name));
  Role role;
  if (name.empty() || !VerifyOperator(hub_.dir(), name, password, &role)) {
    auth_.LoginFailed(name);
    log_.warn("console: login refused for \"{}\"", name);
    Status audited = AppendAudit(hub_.dir(), name, "console login refused", "console");
    if (!audited.ok()) log_.error("console: {}", audited.ToString());
    res.status = 401;
    return LoginForm(req, res, "wrong name or password");
  }
  Status audited = AppendAudit(hub_.dir(), name, "console login", "console");
  if (!audited.ok()) {
    log_.error("console: {}", audited.ToString());
    return Refuse(res, 500, "cannot write the audit trail: " + audited.ToString());
  }
  ConsoleSession session = auth_.LoginSucceeded(name, role, NowMs());
  log_.info("console: {} logged in ({})", name, RoleName(role));
  res.set_header("Set-Cookie", SessionCookie(session.id, auth_options_.idle_ms));
  Redirect(res, "/sites");
}

void ConsoleServer::Metrics(const httplib::Request& req, httplib::Response& res) {
  std::string name, password;
  Role role;
  bool known = BasicCredentials(req, &name, &password);
  if (known) Wait(auth_.DelayFor(name));
  if (!known || !VerifyOperator(hub_.dir(), name, password, &role)) {
    if (known) auth_.LoginFailed(name);
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"osrc hub\", charset=\"UTF-8\"");
    res.set_content("operator credentials required\n", "text/plain");
    return;
  }
  std::string text;
  {
    std::shared_lock guard(hub_.store_guard());
    text = RenderMetrics(ReadStatus(hub_), live_);
  }
  res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
}

void ConsoleServer::Page(const httplib::Request& req, httplib::Response& res,
                         const ConsoleSession& session) {
  PageContext ctx{session.name, session.role, session.csrf, {}, {}};
  const std::string& path = req.path;
  if (req.method == "GET") {
    if (path == "/") return Redirect(res, "/sites");
    if (path == "/sites") return res.set_content(SitesPage(ctx), kHtml);
    if (path == "/conflicts") return res.set_content(ConflictsPage(req, ctx), kHtml);
    if (path == "/reference") return res.set_content(ReferencePage(ctx), kHtml);
    if (path == "/operators") return res.set_content(OperatorsPage(ctx), kHtml);
    if (path == "/statistics") return StatisticsPage(req, res, ctx);
    if (path == "/statistics.csv") return StatisticsCsv(req, res, ctx);
    return Refuse(res, 404, "no such page");
  }
  if (path == "/logout") {
    auth_.Logout(session.id);
    res.set_header("Set-Cookie",
                   std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return Redirect(res, "/login");
  }
  using Action = std::string (ConsoleServer::*)(const httplib::Request&, PageContext&);
  const std::pair<std::string_view, Action> actions[] = {
      {"/conflicts/resolve", &ConsoleServer::Resolve},
      {"/reference/import", &ConsoleServer::Import},
      {"/operators/add", &ConsoleServer::AddOperatorAction},
      {"/operators/remove", &ConsoleServer::RemoveOperatorAction}};
  for (const auto& [action_path, action] : actions) {
    if (path != action_path) continue;
    if (!MayChange(session.role)) {
      log_.warn("console: {} {} by viewer {} refused", req.method, path, session.name);
      return Refuse(res, 403, "refused: viewers cannot change anything; ask an admin");
    }
    std::string html = (this->*action)(req, ctx);
    if (!ctx.error.empty()) res.status = 400;
    return res.set_content(html, kHtml);
  }
  Refuse(res, 404, "no such action");
}

std::string ConsoleServer::SitesPage(const PageContext& ctx) {
  HubStatus status;
  HourlyCounts received;
  {
    std::shared_lock guard(hub_.store_guard());
    status = ReadStatus(hub_);
    storage::ReadTxn txn(hub_.store().env());
    uint64_t now_hour = status.now_ms / 3'600'000;
    received = ReadReceived(hub_.store(), txn, now_hour + 1 - std::min(now_hour + 1, kChartHours));
  }
  return SitesPageHtml(status, received, ctx);
}

std::string ConsoleServer::ConflictsPage(const httplib::Request& req, PageContext& ctx) {
  replica::ConflictFilter filter{req.get_param_value("site"), req.get_param_value("collection"),
                                 req.get_param_value("field")};
  const bool show_personal = MayChange(ctx.role);
  std::vector<nlohmann::json> shown;
  size_t total = 0;
  bool personal_shown = false;
  {
    std::shared_lock guard(hub_.store_guard());
    storage::ReadTxn txn(hub_.store().env());
    replica::ForEachMatchingConflict(
        hub_.store(), txn, filter, [&](const storage::StoredConflict& c) {
          if (++total > kConflictsPerPage) return;
          personal_shown |= show_personal && replica::IsPersonal(hub_.schema(), c);
          shown.push_back(nlohmann::json::parse(
              replica::ConflictLine(hub_.schema(), c, show_personal, /*as_json=*/true)));
        });
  }
  if (personal_shown) {
    Status audited = AppendAudit(hub_.dir(), ctx.name, "view personal", "console conflicts");
    if (!audited.ok()) {
      // No audit entry, no personal values: show the page masked.
      ctx.error = "personal values hidden: " + audited.ToString();
      for (nlohmann::json& c : shown) {
        if (c["personal"].get<bool>()) {
          c["winner"]["value"] = "(personal)";
          c["loser"]["value"] = "(personal)";
        }
      }
    }
  }
  return ConflictsPageHtml(shown, total, filter, ctx);
}

std::string ConsoleServer::ReferencePage(PageContext& ctx) {
  HubStatus status;
  {
    std::shared_lock guard(hub_.store_guard());
    status = ReadStatus(hub_);
  }
  return ReferencePageHtml(status, ctx);
}

Status ConsoleServer::RunReport(const StatisticsForm& form, const PageContext& ctx,
                                StatisticsResult* result) {
  OSRC_RETURN_IF_ERROR(
      StatisticsRequestOf(form, ctx.role, hub_.config().report_k, &result->request, &result->k));
  std::string by;
  for (const std::string& dim : result->request.by) by += (by.empty() ? "" : ",") + dim;
  OSRC_RETURN_IF_ERROR(AppendAudit(
      hub_.dir(), ctx.name, "report",
      result->request.name + " by " + by + ", k " + std::to_string(result->k) + " (console)"));
  {
    std::shared_lock guard(hub_.store_guard());
    storage::ReadTxn txn(hub_.store().env());
    OSRC_RETURN_IF_ERROR(report::BuildReport(hub_.store(), txn, result->request,
                                             UtcTimeOf(NowMs()).substr(0, 10), &result->table));
  }
  result->suppression = report::Suppress(result->table, result->k);
  return {};
}

void ConsoleServer::StatisticsPage(const httplib::Request& req, httplib::Response& res,
                                   PageContext& ctx) {
  StatisticsForm form = FormOf(req);
  StatisticsResult result;
  bool shown = false;
  if (!form.report.empty()) {
    Status status = RunReport(form, ctx, &result);
    shown = status.ok();
    if (!status.ok()) {
      ctx.error = status.ToString();
      res.status = status.code() == ErrorCode::kForbidden ? 403 : 400;
    }
  }
  res.set_content(StatisticsPageHtml(form, shown ? &result : nullptr, hub_.config().report_k, ctx),
                  kHtml);
}

void ConsoleServer::StatisticsCsv(const httplib::Request& req, httplib::Response& res,
                                  PageContext& ctx) {
  StatisticsForm form = FormOf(req);
  StatisticsResult result;
  Status status = RunReport(form, ctx, &result);
  if (!status.ok()) {
    return Refuse(res, status.code() == ErrorCode::kForbidden ? 403 : 400, status.ToString());
  }
  res.set_header("Content-Disposition",
                 "attachment; filename=\"" + StatisticsFileName(result.request) + "\"");
  res.set_content(report::FormatReport(result.request, result.table, result.suppression, result.k,
                                       report::Format::kCsv),
                  "text/csv; charset=utf-8");
}

std::string ConsoleServer::OperatorsPage(PageContext& ctx) {
  std::vector<Operator> operators;
  Status status = ReadOperators(hub_.dir(), &operators);
  if (!status.ok()) ctx.error = status.ToString();
  return OperatorsPageHtml(operators, ctx);
}

std::string ConsoleServer::Resolve(const httplib::Request& req, PageContext& ctx) {
  ResolveOptions options{req.get_param_value("id"), req.get_param_value("keep"),
                         req.get_param_value("value")};
  std::string outcome;
  Status status;
  {
    std::unique_lock guard(hub_.store_guard());
    status = ResolveConflict(hub_, options, ctx.name, &outcome);
  }
  if (status.ok()) {
    ctx.notice = outcome;
    log_.info("console: {}: {}", ctx.name, outcome);
  } else {
    ctx.error = status.ToString();
  }
  httplib::Request list;  // the unfiltered list after an action
  return ConflictsPage(list, ctx);
}

std::string ConsoleServer::Import(const httplib::Request& req, PageContext& ctx) {
  std::string collection = req.get_file_value("collection").content;
  if (collection.empty()) collection = req.get_param_value("collection");
  httplib::MultipartFormData file = req.get_file_value("file");
  replica::RecordFormat format = replica::RecordFormat::kJsonLines;
  std::string lower = file.filename;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.size() >= 4 && lower.substr(lower.size() - 4) == ".csv")
    format = replica::RecordFormat::kCsv;
  std::string source = "upload " + (file.filename.empty() ? "(unnamed)" : file.filename);
  replica::ImportStats stats;
  replica::ImportErrors errors;
  Status status;
  if (file.content.empty()) {
    status = {ErrorCode::kBadInput, "the file is empty or missing", source};
  } else {
    std::unique_lock guard(hub_.store_guard());
    status =
        ImportReference(hub_, collection, format, file.content, ctx.name, source, &stats, &errors);
  }
  if (status.ok()) {
    ctx.notice = "imported " + std::to_string(stats.lines) + " " + collection + " records, " +
                 std::to_string(stats.changed) + " changed; reference version " +
                 std::to_string(stats.head);
    log_.info("console: {}: {}", ctx.name, ctx.notice);
  } else {
    ctx.error = status.ToString();
    for (const replica::ImportError& e : errors.shown) ctx.error += "; " + e.ToString();
  }
  return ReferencePage(ctx);
}

std::string ConsoleServer::AddOperatorAction(const httplib::Request& req, PageContext& ctx) {
  std::string name = req.get_param_value("name");
  std::string password = req.get_param_value("password");
  Role role;
  Status status = ParseRole(req.get_param_value("role"), &role);
  if (status.ok()) status = CheckNewOperator(name, password);
  if (status.ok()) {
    status = AppendAudit(hub_.dir(), ctx.name, "operator add",
                         name + " as " + std::string(RoleName(role)));
  }
  if (status.ok()) status = AddOperator(hub_.dir(), name, role, password, NowMs());
  if (status.ok()) {
    ctx.notice = "added operator " + name + " (" + std::string(RoleName(role)) + ")";
  } else {
    ctx.error = status.ToString();
  }
  return OperatorsPage(ctx);
}

std::string ConsoleServer::RemoveOperatorAction(const httplib::Request& req, PageContext& ctx) {
  std::string name = req.get_param_value("name");
  Status status = AppendAudit(hub_.dir(), ctx.name, "operator remove", name);
  if (status.ok()) status = RemoveOperator(hub_.dir(), name);
  if (status.ok()) {
    auth_.EndSessionsOf(name);
    ctx.notice = "removed operator " + name;
  } else {
    ctx.error = status.ToString();
  }
  return OperatorsPage(ctx);
}

}  // namespace osrc::hub
