// Cluster: a hub and enrolled site nodes, each in its own folder of a TempDir, driven through the
// real osrc-hub and osrc-node binaries, for integration tests (tests/integration). Header-only:
// it needs nlohmann_json, which osrc_process_tests links.
//
//   TempDir tmp("osrc-example");
//   ClusterHub hub(tmp);                      // osrc-hub init, bind 127.0.0.1 port *
//   ClusterNode mas(tmp, "MAS", hub);         // osrc-node init, enrolled at the hub
//   hub.Start();                              // osrc-hub run, reads back its port: mas gets it
//   mas.Import(GenerateSample(tmp, "MAS", {"--participants", "10"}, "mas.jsonl"));
//   mas.MustSync();                           // osrc-node sync, exit 0 = in step
//   ExpectConverged(hub, mas);                // exports identical, nothing pending
//
// Every node command of a ClusterNode runs with the node's extra environment (e.g.
// OSRC_CLOCK_SKEW_MS), daemons included. Daemons are stopped by pid: Stop() sends SIGTERM and
// expects exit 0, Crash() sends SIGKILL; destructors stop what is still running. Nothing here
// sleeps to synchronise: PollUntil() re-checks observable state (status --json, files) until a
// deadline, pausing briefly between probes so that polling does not starve the processes under
// test of CPU.
//
// Commands that must succeed throw std::runtime_error with the command, outcome and output, so a
// failure names what went wrong.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {

// The site-owned collections, in the order a site's records are listed by `osrc-hub export
// --site` and by a node's sorted export.
inline const std::set<std::string, std::less<>>& SiteCollections() {
  static const std::set<std::string, std::less<>> kCollections = {
      "attendance", "participants", "referrals", "services", "trainings"};
  return kCollections;
}

// {BinPath(binary), rest...}
inline std::vector<std::string> BinArgs(std::string_view binary,
                                        std::initializer_list<std::string> rest = {}) {
  std::vector<std::string> args{BinPath(binary)};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

// Throws (with the command, outcome and output) unless `result` succeeded; returns its stdout.
inline std::string Checked(const RunResult& result) {
  if (!result.ok()) throw std::runtime_error("command failed: " + result.Describe());
  return result.out;
}

// Runs a command that must succeed and returns its stdout.
inline std::string MustRun(std::vector<std::string> args,
                           Clock::duration timeout = std::chrono::seconds(120)) {
  return Checked(Run(std::move(args), {}, timeout));
}

inline std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = SplitLines(text);
  if (lines.empty()) throw std::runtime_error("no output");
  return lines.back();
}

inline bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The "collection" of an export line: {"collection":"NAME","id":...}.
inline std::string_view CollectionOfLine(std::string_view line) {
  constexpr std::string_view kHead = "{\"collection\":\"";
  if (line.substr(0, kHead.size()) != kHead) return {};
  line.remove_prefix(kHead.size());
  return line.substr(0, line.find('"'));
}

// The lines of an export that belong (or, with `site_owned` false, do not belong) to the
// site-owned collections.
inline std::string FilterExport(const std::string& text, bool site_owned) {
  std::string out;
  for (const std::string& line : SplitLines(text)) {
    if (SiteCollections().contains(CollectionOfLine(line)) == site_owned) out += line + "\n";
  }
  return out;
}

// (collection, id) of each line of an export, in order.
inline std::vector<std::pair<std::string, std::string>> RecordKeys(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const std::string& line : SplitLines(text)) {
    nlohmann::json record = nlohmann::json::parse(line);
    keys.emplace_back(record.at("collection"), record.at("id"));
  }
  return keys;
}

// Byte equality of two exports; on a difference, the line counts and the first differing line
// instead of both (possibly huge) texts.
inline ::testing::AssertionResult SameExport(const std::string& what, const std::string& a_side,
                                             const std::string& b_side) {
  if (a_side == b_side) return ::testing::AssertionSuccess();
  std::vector<std::string> a = SplitLines(a_side), b = SplitLines(b_side);
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return ::testing::AssertionFailure()
         << what << " differ: one side has " << a.size() << " lines, the other " << b.size()
         << "; first difference at line " << i + 1 << ":\n  " << (i < a.size() ? a[i] : "(end)")
         << "\n  " << (i < b.size() ? b[i] : "(end)");
}

// Calls `probe` until it returns true or `deadline` passes; returns whether it did. The pause
// between probes is a polling interval; the condition is what synchronises.
inline bool PollUntil(Deadline deadline, const std::function<bool()>& probe,
                      Clock::duration interval = std::chrono::milliseconds(50)) {
  while (true) {
    if (probe()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);  // polling interval, not synchronisation
  }
}

// Stops a daemon by pid: SIGTERM, then waits; it must exit 0 (a failure is recorded, not thrown).
inline void StopProcess(Process& process, const std::string& what) {
  process.Kill(SIGTERM);
  std::optional<ExitStatus> status = process.WaitFor(std::chrono::seconds(30));
  if (!status) {
    process.Kill(SIGKILL);
    process.WaitFor(std::chrono::seconds(10));
    ADD_FAILURE() << what << " did not stop within 30 s of SIGTERM";
    return;
  }
  EXPECT_TRUE(status->success()) << what << " ended with " << status->ToString() << "\n"
                                 << process.stderr_text();
}

// Kills a daemon by pid with SIGKILL and reaps it; throws if it cannot be reaped.
inline void KillProcess(Process& process, const std::string& what) {
  process.Kill(SIGKILL);
  if (!process.WaitFor(std::chrono::seconds(30))) {
    throw std::runtime_error(what + " not reaped within 30 s of SIGKILL");
  }
}

// Sets `key = value` in a TOML file, replacing the one line that sets `key`: "section.key" within
// that section; a plain key anywhere, or, when sections set it too (`bind` and `[console] bind`),
// the top-level line before the first [section]. Throws if there is no such line.
inline void SetTomlValue(const std::string& path, const std::string& key,
                         const std::string& value) {
  std::string text = ReadFile(path);
  size_t dot = key.find('.');
  std::string head = (dot == std::string::npos ? key : key.substr(dot + 1)) + " = ";
  // The one line in text[begin, stop) setting the key, or npos.
  auto find_in = [&](size_t begin, size_t stop) {
    std::string part = text.substr(begin, stop - begin);
    size_t at = part.rfind("\n" + head);
    if (at == std::string::npos || part.find("\n" + head) != at) return std::string::npos;
    return begin + at;
  };
  size_t at;
  if (dot != std::string::npos) {
    size_t begin = text.find("\n[" + key.substr(0, dot) + "]\n");
    at = begin == std::string::npos ? begin : find_in(begin, text.find("\n[", begin + 1));
  } else {
    at = find_in(0, text.size());
    if (at == std::string::npos) at = find_in(0, text.find("\n["));
  }
  if (at == std::string::npos) {
    throw std::runtime_error("not exactly one line setting " + key + " in " + path);
  }
  size_t end = text.find('\n', at + 1);
  text.replace(at + 1, (end == std::string::npos ? text.size() : end) - at - 1, head + value);
  WriteFile(path, text);
}

// The value of the one line `key = value` of a TOML file, as written; throws if there is none.
inline std::string TomlValue(const std::string& path, const std::string& key) {
  std::string text = "\n" + ReadFile(path);
  std::string head = "\n" + key + " = ";
  size_t at = text.find(head);
  if (at == std::string::npos) throw std::runtime_error("no line setting " + key + " in " + path);
  at += head.size();
  return text.substr(at, text.find('\n', at) - at);
}

// Writes osrc-gen sample data for `site` to `tmp`/`name` and returns its path.
inline std::string GenerateSample(const TempDir& tmp, const std::string& site,
                                  std::initializer_list<std::string> options,
                                  const std::string& name) {
  std::string path = tmp.Path(name);
  std::vector<std::string> args = BinArgs("osrc-gen", {"--site", site, "--out", path});
  args.insert(args.end(), options);
  MustRun(std::move(args));
  return path;
}

// A hub data folder (osrc-hub init binding 127.0.0.1 port `*`) and its daemon when started.
// The first Start() reads back the port the daemon bound (its readiness line, and
// `<dir>/hub.endpoint` if written) and keeps it in hub.toml, so a restarted hub is where running
// nodes expect it; endpoint() is empty before. Nodes made before that first Start() get the
// endpoint then (see ClusterNode).
class ClusterHub {
 public:
  explicit ClusterHub(const TempDir& tmp, const std::string& folder = "hub")
      : dir_(tmp.Path(folder)) {
    key_ = LastLine(
        MustRun(BinArgs("osrc-hub", {"init", "--data", dir_, "--bind", "tcp://127.0.0.1:*"})));
  }
  ~ClusterHub() {
    if (running()) StopProcess(*daemon_, "osrc-hub run");
  }
  ClusterHub(const ClusterHub&) = delete;
  ClusterHub& operator=(const ClusterHub&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& key() const { return key_; }
  // "tcp://127.0.0.1:PORT" once started; empty before.
  const std::string& endpoint() const { return endpoint_; }
  // The port bound. Throws before the first Start(): the hub binds port * and only then has one.
  uint16_t port() const {
    if (port_ == 0) throw std::logic_error("ClusterHub::port() before Start(): no port bound yet");
    return port_;
  }
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  Process* daemon() { return daemon_.get(); }
  bool running() const { return daemon_ != nullptr && daemon_->running(); }

  // Starts `osrc-hub run`, waits for its readiness line and reads the endpoint it bound; throws
  // if either does not come. The first start then points the waiting nodes at it. The console
  // is off unless `with_console` (then on 127.0.0.1, any free port: ConsoleAddress()).
  void Start(bool with_console = false) {
    std::remove(Path("console.address").c_str());
    daemon_ = std::make_unique<Process>(BinArgs(
        "osrc-hub", {"run", "--data", dir_, "--console", with_console ? "127.0.0.1:0" : "off"}));
    std::optional<std::string> ready = daemon_->WaitForOutputLine(
        "listening on ", DeadlineIn(std::chrono::seconds(30)), Stream::kStderr);
    if (!ready) {
      throw std::runtime_error("osrc-hub run did not report listening:\n" + daemon_->stderr_text());
    }
    // "listening on tcp://127.0.0.1:PORT ..."; hub.endpoint, when the daemon writes it before
    // that line, must say the same.
    std::string bound = ready->substr(ready->find("listening on ") + 13);
    bound = bound.substr(0, bound.find(' '));
    size_t colon = bound.rfind(':');
    if (!bound.starts_with("tcp://127.0.0.1:") || colon + 1 >= bound.size()) {
      throw std::runtime_error("no endpoint on 127.0.0.1 in: " + *ready);
    }
    if (access(Path("hub.endpoint").c_str(), F_OK) == 0) {
      std::vector<std::string> lines = SplitLines(ReadFile(Path("hub.endpoint")));
      if (lines.empty() || lines.front() != bound) {
        throw std::runtime_error("hub.endpoint does not hold " + bound +
                                 ", the endpoint of: " + *ready);
      }
    }
    if (!endpoint_.empty() && bound != endpoint_) {
      throw std::runtime_error("hub restarted on " + bound + ", not " + endpoint_);
    }
    if (endpoint_.empty()) {
      endpoint_ = bound;
      port_ = static_cast<uint16_t>(std::stoi(bound.substr(colon + 1)));
      SetConfig("bind", "'" + endpoint_ + "'");
      for (const std::string& node_toml : waiting_nodes_) PointAtHub(node_toml);
      waiting_nodes_.clear();
    }
  }
  void Stop() { StopProcess(*daemon_, "osrc-hub run"); }
  void Crash() { KillProcess(*daemon_, "osrc-hub run"); }
  // HOST:PORT of the console of a hub started with it; throws if it does not listen.
  std::string ConsoleAddress() const {
    std::string address;
    if (!PollUntil(DeadlineIn(std::chrono::seconds(30)), [&] {
          if (access(Path("console.address").c_str(), F_OK) != 0) return false;
          std::vector<std::string> lines = SplitLines(ReadFile(Path("console.address")));
          if (lines.empty()) return false;
          address = lines.front();
          return true;
        })) {
      throw std::runtime_error("no console.address in " + dir_);
    }
    return address;
  }

  // Called by a node made before the first Start(): its node.toml gets the endpoint then,
  // unless it names another endpoint by that time (e.g. a proxy's).
  void AwaitEndpoint(const std::string& node_toml) const { waiting_nodes_.push_back(node_toml); }

  // `osrc-hub ARGS --data DIR`, whatever its outcome.
  RunResult Run(std::initializer_list<std::string> args,
                Clock::duration timeout = std::chrono::seconds(120)) const {
    std::vector<std::string> all = BinArgs("osrc-hub", args);
    all.insert(all.end(), {"--data", dir_});
    return osrc::testing::Run(std::move(all), {}, timeout);
  }
  // The same, which must succeed; returns stdout.
  std::string Cli(std::initializer_list<std::string> args) const { return Checked(Run(args)); }

  void Enrol(const std::string& site, const std::string& key) const {
    Cli({"enrol", "--site", site, "--key", key});
  }
  nlohmann::json Status() const { return nlohmann::json::parse(Cli({"status", "--json"})); }
  // The status entry of `site`; null if the site is not enrolled.
  nlohmann::json SiteStatus(const std::string& site) const {
    nlohmann::json status = Status();
    for (const nlohmann::json& entry : status.at("sites")) {
      if (entry.at("site") == site) return entry;
    }
    return nullptr;
  }
  // Exports with every field: replicas compare whole records.
  std::string ExportSite(const std::string& site) const {
    return Cli({"export", "--site", site, "--include-personal"});
  }
  std::string Export() const { return Cli({"export", "--include-personal"}); }
  // Sets `key = value` in hub.toml.
  void SetConfig(const std::string& key, const std::string& value) const {
    SetTomlValue(Path("hub.toml"), key, value);
  }

 private:
  void PointAtHub(const std::string& node_toml) const {
    if (access(node_toml.c_str(), F_OK) != 0) return;
    std::string now = TomlValue(node_toml, "endpoint");
    if (now != "''" && now != "\"\"") return;
    SetTomlValue(node_toml, "endpoint", "'" + endpoint_ + "'");
  }

  std::string dir_;
  uint16_t port_ = 0;
  std::string endpoint_;
  std::string key_;
  std::unique_ptr<Process> daemon_;
  mutable std::vector<std::string> waiting_nodes_;  // node.toml files
};

// A site node's data folder (osrc-node init for the hub, enrolled unless told otherwise) and its
// daemon when started. `env` is set for every osrc-node command of this node.
class ClusterNode {
 public:
  struct Options {
    std::string folder;  // Default: "node-" + site.
    std::vector<std::pair<std::string, std::string>> env;
    bool enrol = true;
    std::string hub_key;  // Default: the hub's key.
  };

  ClusterNode(const TempDir& tmp, const std::string& site, const ClusterHub& hub)
      : ClusterNode(tmp, site, hub, Options{}) {}
  ClusterNode(const TempDir& tmp, const std::string& site, const ClusterHub& hub, Options options)
      : site_(site),
        dir_(tmp.Path(options.folder.empty() ? "node-" + site : options.folder)),
        env_(std::move(options.env)) {
    std::string hub_key = options.hub_key.empty() ? hub.key() : options.hub_key;
    std::vector<std::string> init = {"init", "--data", dir_, "--site", site, "--hub-key", hub_key};
    if (!hub.endpoint().empty()) init.insert(init.end(), {"--hub", hub.endpoint()});
    key_ = LastLine(Checked(RunNode(std::move(init))));
    if (hub.endpoint().empty()) hub.AwaitEndpoint(Path("node.toml"));
    if (options.enrol) hub.Enrol(site, key_);
  }
  ~ClusterNode() {
    if (running()) StopProcess(*daemon_, "osrc-node run " + site_);
  }
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  const std::string& site() const { return site_; }
  const std::string& key() const { return key_; }
  const std::string& dir() const { return dir_; }
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  Process* daemon() { return daemon_.get(); }
  bool running() const { return daemon_ != nullptr && daemon_->running(); }

  // Replaces the extra environment of this node's later commands.
  void SetEnv(std::vector<std::pair<std::string, std::string>> env) { env_ = std::move(env); }

  ProcessOptions ProcessEnv() const {
    ProcessOptions options;
    options.env = env_;
    return options;
  }

  // `osrc-node ARGS --data DIR`, whatever its outcome.
  RunResult Run(std::initializer_list<std::string> args,
                Clock::duration timeout = std::chrono::seconds(120)) const {
    std::vector<std::string> all(args);
    all.insert(all.end(), {"--data", dir_});
    return RunNode(std::move(all), timeout);
  }
  // The same, which must succeed; returns stdout.
  std::string Cli(std::initializer_list<std::string> args) const { return Checked(Run(args)); }

  RunResult Sync(int timeout_seconds = 30) const {
    return Run({"sync", "--timeout", std::to_string(timeout_seconds)},
               std::chrono::seconds(timeout_seconds + 30));
  }
  void MustSync(int timeout_seconds = 30) const {
    RunResult result = Sync(timeout_seconds);
    if (!result.ok()) {
      throw std::runtime_error("sync of " + site_ + " failed: " + result.Describe());
    }
  }
  // Starts `osrc-node sync` without waiting for it, e.g. for syncs that run at the same time.
  std::unique_ptr<Process> StartSync(int timeout_seconds = 30) const {
    return std::make_unique<Process>(
        BinArgs("osrc-node",
                {"sync", "--timeout", std::to_string(timeout_seconds), "--data", dir_}),
        ProcessEnv());
  }
  std::string Import(const std::string& file) const { return Cli({"import", file}); }
  void Put(const std::string& collection, const std::string& id, const std::string& fields) const {
    Cli({"put", collection, id, "--json", fields});
  }
  // With `cascade`, the records referencing it go too (`delete --cascade`).
  void Delete(const std::string& collection, const std::string& id, bool cascade = false) const {
    if (cascade) {
      Cli({"delete", collection, id, "--cascade"});
    } else {
      Cli({"delete", collection, id});
    }
  }
  std::string Get(const std::string& collection, const std::string& id) const {
    return Cli({"get", collection, id});
  }
  std::string Export() const { return Cli({"export", "--include-personal"}); }
  // The node's own records (its site-owned collections), as `osrc-hub export --site` lists them.
  std::string ExportOwn() const { return FilterExport(Export(), true); }
  nlohmann::json Status() const { return nlohmann::json::parse(Cli({"status", "--json"})); }
  // Sets `key = value` in node.toml.
  void SetConfig(const std::string& key, const std::string& value) const {
    SetTomlValue(Path("node.toml"), key, value);
  }

  // Starts `osrc-node run` (no readiness line: poll Status() for the link state).
  void Start() {
    daemon_ =
        std::make_unique<Process>(BinArgs("osrc-node", {"run", "--data", dir_}), ProcessEnv());
  }
  void Stop() { StopProcess(*daemon_, "osrc-node run " + site_); }
  void Crash() { KillProcess(*daemon_, "osrc-node run " + site_); }

 private:
  RunResult RunNode(std::vector<std::string> args,
                    Clock::duration timeout = std::chrono::seconds(120)) const {
    args.insert(args.begin(), BinPath("osrc-node"));
    return RunWith(std::move(args), ProcessEnv(), timeout);
  }

  std::string site_;
  std::string dir_;
  std::vector<std::pair<std::string, std::string>> env_;
  std::string key_;
  std::unique_ptr<Process> daemon_;
};

// Whether a node status shows the link in step with nothing pending and all acknowledged.
inline bool InStep(const nlohmann::json& status) {
  return status.value("link", "") == "in step" && status.value("pending", -1) == 0 &&
         status.at("acked") == status.at("log_head");
}

// Polls `node`'s status until InStep() (a running daemon reached the hub and pushed everything);
// `*last` is the last status read. False at the deadline.
inline bool WaitInStep(const ClusterNode& node, Clock::duration timeout, nlohmann::json* last,
                       Clock::duration interval = std::chrono::milliseconds(200)) {
  return PollUntil(
      DeadlineIn(timeout),
      [&] {
        *last = node.Status();
        return InStep(*last);
      },
      interval);
}

// Asserts that `node` and the hub hold the same records of the node's site, that nothing is
// pending either way and that the hub acknowledged the node's whole change log.
inline void ExpectConverged(const ClusterHub& hub, const ClusterNode& node) {
  std::string own = node.ExportOwn();
  EXPECT_TRUE(SameExport("exports of " + node.site() + "'s records (site, hub)", own,
                         hub.ExportSite(node.site())));
  nlohmann::json status = node.Status();
  nlohmann::json site = hub.SiteStatus(node.site());
  ASSERT_TRUE(site.is_object()) << node.site() << " missing from the hub status";
  EXPECT_EQ(status["pending"], 0) << status.dump();
  EXPECT_EQ(status["acked"], status["log_head"]) << status.dump();
  EXPECT_EQ(site["acked"], status["log_head"]) << site.dump();
  EXPECT_EQ(site["pending_delivery"], 0) << site.dump();
  EXPECT_EQ(site["records"], SplitLines(own).size()) << site.dump();
}

// Asserts that the hub holds `total` records of `node`'s site, each once, equal to the node's own.
inline void ExpectSameRecordsOnce(const ClusterHub& hub, const ClusterNode& node, size_t total) {
  std::string hub_export = hub.ExportSite(node.site());
  std::vector<std::pair<std::string, std::string>> keys = RecordKeys(hub_export);
  EXPECT_EQ(keys.size(), total);
  EXPECT_EQ(std::set(keys.begin(), keys.end()).size(), total) << "a record held twice";
  EXPECT_TRUE(SameExport("exports of " + node.site() + "'s records (site, hub)", node.ExportOwn(),
                         hub_export));
}

}  // namespace osrc::testing
