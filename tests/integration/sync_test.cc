// End-to-end sync tests: a real osrc-hub daemon and real osrc-node processes talking CurveZMQ on
// 127.0.0.1, each test in its own temporary directory with its own free port.
//
// Processes are stopped by pid (SIGTERM, then wait for the exit) or killed (SIGKILL) where a
// crash is the point. Nothing sleeps to synchronise: the tests wait for the hub's readiness line,
// for a line on a daemon's stderr, for `osrc-node sync` to exit, or poll `status --json` until a
// condition holds or a deadline passes.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The site-owned collections (the hub's `export --site` lists exactly these, in this order).
const std::set<std::string, std::less<>> kSiteCollections = {
    "attendance", "participants", "referrals", "services", "trainings"};

std::vector<std::string> Args(std::string_view binary, std::initializer_list<std::string> rest) {
  std::vector<std::string> args{BinPath(binary)};
  args.insert(args.end(), rest.begin(), rest.end());
  return args;
}

// Runs a command that must succeed and returns its stdout; throws (failing the test with the
// command, outcome and output) otherwise.
std::string MustRun(std::vector<std::string> args, Clock::duration timeout = seconds(120)) {
  RunResult result = Run(std::move(args), {}, timeout);
  if (!result.ok()) throw std::runtime_error("command failed: " + result.Describe());
  return result.out;
}

std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = SplitLines(text);
  if (lines.empty()) throw std::runtime_error("no output");
  return lines.back();
}

// The "collection" of an export line: {"collection":"NAME","id":...}.
std::string_view CollectionOf(std::string_view line) {
  constexpr std::string_view kHead = "{\"collection\":\"";
  if (line.substr(0, kHead.size()) != kHead) return {};
  line.remove_prefix(kHead.size());
  return line.substr(0, line.find('"'));
}

// The lines of an export that belong (or, with `site_owned` false, do not belong) to the
// site-owned collections.
std::string FilterExport(const std::string& text, bool site_owned) {
  std::string out;
  for (const std::string& line : SplitLines(text)) {
    if (kSiteCollections.contains(CollectionOf(line)) == site_owned) out += line + "\n";
  }
  return out;
}

// Byte equality of two exports; on a difference, the line counts and the first differing line
// instead of both (possibly huge) texts.
::testing::AssertionResult SameExport(const std::string& what, const std::string& site_side,
                                      const std::string& hub_side) {
  if (site_side == hub_side) return ::testing::AssertionSuccess();
  std::vector<std::string> a = SplitLines(site_side), b = SplitLines(hub_side);
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return ::testing::AssertionFailure()
         << what << " differ: site side has " << a.size() << " lines, hub side " << b.size()
         << "; first difference at line " << i + 1 << ":\n  site: "
         << (i < a.size() ? a[i] : "(end)") << "\n  hub:  " << (i < b.size() ? b[i] : "(end)");
}

// Calls `probe` until it returns true or `deadline` passes; returns whether it did. Between probes
// it pauses briefly so the polling does not starve the processes under test of CPU: the pause is
// a polling interval, the condition is what synchronises.
bool PollUntil(Deadline deadline, const std::function<bool()>& probe,
               Clock::duration interval = milliseconds(50)) {
  while (true) {
    if (probe()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);  // polling interval, not synchronisation
  }
}

// Stops a daemon by pid: SIGTERM, then waits; it must exit 0.
void StopDaemon(Process& process, const std::string& what) {
  process.Kill(SIGTERM);
  std::optional<ExitStatus> status = process.WaitFor(seconds(30));
  if (!status) {
    process.Kill(SIGKILL);
    process.WaitFor(seconds(10));
    ADD_FAILURE() << what << " did not stop within 30 s of SIGTERM";
    return;
  }
  EXPECT_TRUE(status->success()) << what << " ended with " << status->ToString() << "\n"
                                 << process.stderr_text();
}

// Kills a daemon by pid with SIGKILL and reaps it.
void CrashDaemon(Process& process, const std::string& what) {
  process.Kill(SIGKILL);
  std::optional<ExitStatus> status = process.WaitFor(seconds(30));
  ASSERT_TRUE(status.has_value()) << what << " not reaped after SIGKILL";
}

// A hub data folder on a free port, and its daemon when started.
class HubUnderTest {
 public:
  explicit HubUnderTest(const TempDir& tmp)
      : dir_(tmp.Path("hub")), endpoint_("tcp://127.0.0.1:" + std::to_string(FreePort())) {
    key_ = LastLine(MustRun(Args("osrc-hub", {"init", "--data", dir_, "--bind", endpoint_})));
  }
  ~HubUnderTest() {
    if (daemon_ && daemon_->running()) StopDaemon(*daemon_, "osrc-hub run");
  }

  const std::string& key() const { return key_; }
  const std::string& endpoint() const { return endpoint_; }
  const std::string& dir() const { return dir_; }

  // Starts `osrc-hub run` and waits for its readiness line.
  void Start() {
    daemon_ = std::make_unique<Process>(Args("osrc-hub", {"run", "--data", dir_}));
    std::optional<std::string> ready =
        daemon_->WaitForOutputLine("listening on " + endpoint_, DeadlineIn(seconds(30)),
                                   Stream::kStderr);
    if (!ready) {
      throw std::runtime_error("osrc-hub run did not report listening on " + endpoint_ + ":\n" +
                               daemon_->stderr_text());
    }
  }
  void Stop() { StopDaemon(*daemon_, "osrc-hub run"); }
  void Crash() { CrashDaemon(*daemon_, "osrc-hub run"); }

  // Runs `osrc-hub ARGS --data DIR`, which must succeed; returns stdout.
  std::string Cli(std::initializer_list<std::string> args) {
    std::vector<std::string> all = Args("osrc-hub", args);
    all.insert(all.end(), {"--data", dir_});
    return MustRun(std::move(all));
  }
  void Enrol(const std::string& site, const std::string& key) {
    Cli({"enrol", "--site", site, "--key", key});
  }
  json Status() { return json::parse(Cli({"status", "--json"})); }
  // The status entry of `site`; null if the site is not enrolled.
  json SiteStatus(const std::string& site) {
    json status = Status();
    for (const json& entry : status["sites"]) {
      if (entry["site"] == site) return entry;
    }
    return nullptr;
  }
  std::string ExportSite(const std::string& site) { return Cli({"export", "--site", site}); }
  std::string ExportAll() { return Cli({"export"}); }

 private:
  std::string dir_;
  std::string endpoint_;
  std::string key_;
  std::unique_ptr<Process> daemon_;
};

// A site node's data folder, and its daemon when started.
class NodeUnderTest {
 public:
  NodeUnderTest(const TempDir& tmp, const std::string& site, const HubUnderTest& hub,
                const std::string& folder = "")
      : site_(site), dir_(tmp.Path("node-" + (folder.empty() ? site : folder))) {
    key_ = LastLine(MustRun(Args("osrc-node", {"init", "--data", dir_, "--site", site, "--hub",
                                               hub.endpoint(), "--hub-key", hub.key()})));
  }
  ~NodeUnderTest() {
    if (daemon_ && daemon_->running()) StopDaemon(*daemon_, "osrc-node run " + site_);
  }

  const std::string& site() const { return site_; }
  const std::string& key() const { return key_; }
  const std::string& dir() const { return dir_; }
  Process* daemon() { return daemon_.get(); }

  std::vector<std::string> SyncArgs(int timeout_seconds = 30) const {
    return Args("osrc-node",
                {"sync", "--data", dir_, "--timeout", std::to_string(timeout_seconds)});
  }
  RunResult Sync(int timeout_seconds = 30) {
    return Run(SyncArgs(timeout_seconds), {}, seconds(timeout_seconds + 30));
  }
  void MustSync() {
    RunResult result = Sync();
    if (!result.ok()) {
      throw std::runtime_error("sync of " + site_ + " failed: " + result.Describe());
    }
  }

  std::string Cli(std::initializer_list<std::string> args) {
    std::vector<std::string> all = Args("osrc-node", args);
    all.insert(all.end(), {"--data", dir_});
    return MustRun(std::move(all));
  }
  void Import(const std::string& file) { Cli({"import", file}); }
  void Put(const std::string& collection, const std::string& id, const std::string& fields) {
    Cli({"put", collection, id, "--json", fields});
  }
  void Delete(const std::string& collection, const std::string& id) {
    Cli({"delete", collection, id});
  }
  std::string Export() { return Cli({"export"}); }
  std::string ExportCollection(const std::string& collection) {
    return Cli({"export", "--collection", collection});
  }
  // The node's own records (its site-owned collections), as the hub's `export --site` lists them.
  std::string ExportOwn() { return FilterExport(Export(), true); }
  json Status() { return json::parse(Cli({"status", "--json"})); }

  void Start() { daemon_ = std::make_unique<Process>(Args("osrc-node", {"run", "--data", dir_})); }
  void Stop() { StopDaemon(*daemon_, "osrc-node run " + site_); }
  void Crash() { CrashDaemon(*daemon_, "osrc-node run " + site_); }

 private:
  std::string site_;
  std::string dir_;
  std::string key_;
  std::unique_ptr<Process> daemon_;
};

// Writes osrc-gen sample data for `site` to a file in `tmp` and returns its path.
std::string Generate(const TempDir& tmp, const std::string& site,
                     std::initializer_list<std::string> options, const std::string& name) {
  std::string path = tmp.Path(name);
  std::vector<std::string> args = Args("osrc-gen", {"--site", site, "--out", path});
  args.insert(args.end(), options);
  MustRun(std::move(args));
  return path;
}

// Runs syncs of several nodes at the same time; each must reach "in step".
void SyncConcurrently(const std::vector<NodeUnderTest*>& nodes) {
  std::vector<std::unique_ptr<Process>> syncs;
  for (NodeUnderTest* node : nodes) syncs.push_back(std::make_unique<Process>(node->SyncArgs()));
  for (size_t i = 0; i < syncs.size(); ++i) {
    std::optional<ExitStatus> status = syncs[i]->WaitFor(seconds(60));
    if (!status || !status->success()) {
      throw std::runtime_error("concurrent sync of " + nodes[i]->site() + " failed (" +
                               (status ? status->ToString() : "no exit in 60 s") +
                               "): " + syncs[i]->stderr_text());
    }
  }
}

// Asserts that `node` and the hub hold the same records of the node's site, that nothing is
// waiting in either direction, and that the hub counts as many records as the node exports.
void ExpectSiteConverged(HubUnderTest& hub, NodeUnderTest& node) {
  std::string own = node.ExportOwn();
  EXPECT_TRUE(SameExport("export of " + node.site() + "'s records", own,
                         hub.ExportSite(node.site())));
  json node_status = node.Status();
  json hub_site = hub.SiteStatus(node.site());
  ASSERT_TRUE(hub_site.is_object()) << node.site() << " missing from hub status";
  EXPECT_EQ(node_status["pending"], 0) << node.site() << ": " << node_status.dump();
  EXPECT_EQ(hub_site["acked"], node_status["log_head"]) << node.site() << ": " << hub_site.dump();
  EXPECT_EQ(hub_site["pending_delivery"], 0) << node.site() << ": " << hub_site.dump();
  EXPECT_EQ(hub_site["records"], SplitLines(own).size()) << node.site();
}

// ---------------------------------------------------------------------------------------------
// 1. Convergence under random interleavings.

// Random work on four sites and the hub between random syncs.
class SyncConvergence : public ::testing::Test {
 protected:
  using Rng = std::mt19937_64;

  static uint64_t Seed() {
    if (const char* text = std::getenv("OSRC_SYNC_SEED")) return std::strtoull(text, nullptr, 10);
    return 20240611;
  }

  template <typename T>
  static const T& Pick(Rng& rng, const std::vector<T>& values) {
    return values[std::uniform_int_distribution<size_t>(0, values.size() - 1)(rng)];
  }
  static bool Chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }
  static int Between(Rng& rng, int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  }

  // (collection, id) of the live site-owned records in an export.
  static std::vector<std::pair<std::string, std::string>> Records(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> records;
    for (const std::string& line : SplitLines(text)) {
      json record = json::parse(line);
      records.emplace_back(record["collection"], record["id"]);
    }
    return records;
  }

  // A random field update of a record of `collection`, as a JSON object; `tag` makes text unique.
  static std::string RandomFields(Rng& rng, const std::string& collection, const std::string& tag) {
    static const std::vector<std::string> kOccupations = {"seafarer", "caregiver", "nurse",
                                                          "farmer", "driver", "teacher"};
    json fields = json::object();
    if (collection == "participants") {
      switch (Between(rng, 0, 3)) {
        case 0: fields["occupation"] = Pick(rng, kOccupations) + " " + tag; break;
        case 1: fields["phone"] = "0917" + std::to_string(Between(rng, 1000000, 9999999)); break;
        case 2: fields["phone"] = nullptr; break;
        default:
          fields["civil_status"] = Pick(rng, std::vector<std::string>{"single", "married",
                                                                      "widowed", "separated"});
          fields["occupation"] = Pick(rng, kOccupations);
      }
    } else if (collection == "services") {
      fields["outcome"] =
          Pick(rng, std::vector<std::string>{"completed", "ongoing", "referred", "no_show"});
      if (Chance(rng, 0.5)) fields["notes"] = "follow-up " + tag;
    } else if (collection == "referrals") {
      fields["status"] =
          Pick(rng, std::vector<std::string>{"pending", "accepted", "completed", "declined"});
      fields["followup_date"] = "2026-0" + std::to_string(Between(rng, 1, 9)) + "-1" +
                                std::to_string(Between(rng, 0, 9));
    } else if (collection == "trainings") {
      fields["venue"] = "Room " + tag;
    } else {  // attendance
      fields["completed"] = Chance(rng, 0.5);
      fields["certificate_no"] = "C-" + tag;
    }
    return fields.dump();
  }
};

TEST_F(SyncConvergence, FourSitesAndHubCorrectionsConvergeAfterRandomInterleavedSyncs) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set OSRC_SYNC_SEED to replay)");
  Rng rng(seed);
  TempDir tmp("osrc-sync-converge");
  HubUnderTest hub(tmp);
  const std::vector<std::string> codes = {"MAS", "ANT", "MAG", "ADS"};
  std::map<std::string, std::unique_ptr<NodeUnderTest>> nodes;
  for (const std::string& code : codes) {
    nodes[code] = std::make_unique<NodeUnderTest>(tmp, code, hub);
    hub.Enrol(code, nodes[code]->key());
  }
  hub.Start();

  constexpr int kRounds = 4;
  constexpr int kParticipantsPerRound = 15;
  int tag = 0;
  auto next_tag = [&] { return std::to_string(++tag); };

  // Records each site has edited, and records of each site the hub has corrected.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> edited, corrected;

  // A site imports a fresh batch of sample data, then updates and deletes some of its records.
  auto site_work = [&](const std::string& code, int round) {
    NodeUnderTest& node = *nodes[code];
    std::string start = std::to_string(round * kParticipantsPerRound + 1);
    std::string file = Generate(
        tmp, code,
        {"--participants", std::to_string(kParticipantsPerRound), "--start", start,
         "--services-per", "2", "--referrals-per", "1", "--trainings", round == 0 ? "2" : "0",
         "--seed", std::to_string(seed % 1000 + 1)},
        "gen-" + code + "-" + std::to_string(round) + ".jsonl");
    node.Import(file);
    auto records = Records(node.ExportOwn());
    std::set<std::pair<std::string, std::string>> live(records.begin(), records.end());
    for (int i = Between(rng, 3, 8); i > 0; --i) {
      // Often a record the hub has corrected (concurrent edits of the same fields), else any.
      std::pair<std::string, std::string> record = Pick(rng, records);
      if (!corrected[code].empty() && Chance(rng, 0.4)) {
        const auto& candidate = Pick(rng, corrected[code]);
        if (live.contains(candidate)) record = candidate;
      }
      node.Put(record.first, record.second,
               RandomFields(rng, record.first, code + next_tag()));
      edited[code].push_back(record);
    }
    for (int i = Between(rng, 0, 2); i > 0 && !records.empty(); --i) {
      size_t at = std::uniform_int_distribution<size_t>(0, records.size() - 1)(rng);
      node.Delete(records[at].first, records[at].second);
      records.erase(records.begin() + static_cast<std::ptrdiff_t>(at));
    }
  };
  // The hub corrects or deletes records of random sites that it already holds.
  auto hub_corrections = [&] {
    for (int i = Between(rng, 2, 5); i > 0; --i) {
      const std::string& code = Pick(rng, codes);
      auto records = Records(hub.ExportSite(code));
      if (records.empty()) continue;
      // Often a record the site has edited (concurrent edits of the same fields), else any.
      std::pair<std::string, std::string> record = Pick(rng, records);
      if (!edited[code].empty() && Chance(rng, 0.5)) {
        const auto& candidate = Pick(rng, edited[code]);
        if (std::find(records.begin(), records.end(), candidate) != records.end()) {
          record = candidate;
        }
      }
      const auto& [collection, id] = record;
      corrected[code].push_back(record);
      if (Chance(rng, 0.2)) {
        hub.Cli({"delete", collection, id});
      } else {
        std::string fields = RandomFields(rng, collection, "hub" + next_tag());
        hub.Cli({"put", collection, id, "--json", fields});
      }
    }
  };
  // New and changed reference data for every site.
  auto reference_update = [&](int round) {
    std::string file = tmp.Path("countries-" + std::to_string(round) + ".jsonl");
    WriteFile(file,
              "{\"collection\":\"countries\",\"id\":\"XK\",\"fields\":{\"name\":\"Kosovo " +
                  std::to_string(round) + "\"}}\n"
                  "{\"collection\":\"countries\",\"id\":\"PH\",\"fields\":{\"name\":\"Philippines "
                  "(rev " + std::to_string(round) + ")\"}}\n");
    hub.Cli({"ref", "import", "countries", file});
    if (round == 3) hub.Cli({"delete", "countries", "AQ"});
  };
  auto sync = [&](const std::string& code) { nodes[code]->MustSync(); };

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::vector<std::function<void()>> actions;
    for (const std::string& code : codes) {
      actions.push_back([&, code, round] { site_work(code, round); });
      for (int i = Between(rng, 1, 2); i > 0; --i) actions.push_back([&, code] { sync(code); });
    }
    actions.push_back(hub_corrections);
    actions.push_back(hub_corrections);
    if (round % 2 == 1) actions.push_back([&, round] { reference_update(round); });
    actions.push_back([&] {
      std::vector<NodeUnderTest*> some;
      for (const std::string& code : codes) {
        if (Chance(rng, 0.6)) some.push_back(nodes[code].get());
      }
      SyncConcurrently(some);
    });
    std::shuffle(actions.begin(), actions.end(), rng);
    for (const auto& action : actions) action();
  }

  for (int pass = 0; pass < 2; ++pass) {
    std::vector<std::string> order = codes;
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::string& code : order) sync(code);
  }

  std::string hub_reference = FilterExport(hub.ExportAll(), false);
  std::string hub_countries = hub.Cli({"export", "--collection", "countries"});
  ASSERT_NE(hub_countries.find("Kosovo 3"), std::string::npos);
  ASSERT_EQ(hub_countries.find("\"AQ\""), std::string::npos);
  for (const std::string& code : codes) {
    SCOPED_TRACE("site " + code);
    NodeUnderTest& node = *nodes[code];
    std::string own = node.ExportOwn();
    EXPECT_GT(SplitLines(own).size(), static_cast<size_t>(kRounds * kParticipantsPerRound));
    ExpectSiteConverged(hub, node);
    EXPECT_TRUE(SameExport("countries", node.ExportCollection("countries"), hub_countries));
    EXPECT_TRUE(SameExport("reference data", FilterExport(node.Export(), false), hub_reference));
  }
  // The hub kept the losing sides of concurrent edits for review: the run did exercise conflicts.
  RecordProperty("hub_conflicts", std::to_string(hub.Status()["conflicts"].get<uint64_t>()));
  // Site records travel only to their own site: the hub holds exactly the four sites' records.
  size_t site_lines = 0;
  for (const std::string& code : codes) site_lines += SplitLines(hub.ExportSite(code)).size();
  EXPECT_EQ(SplitLines(FilterExport(hub.ExportAll(), true)).size(), site_lines);
  hub.Stop();
}

// ---------------------------------------------------------------------------------------------
// 2-4. Admission: enrolment, revocation, a key enrolled under another site's code.

TEST(SyncAdmission, UnenrolledKeyIsRefusedWithNotEnrolled) {
  TempDir tmp("osrc-sync-unenrolled");
  HubUnderTest hub(tmp);
  NodeUnderTest enrolled(tmp, "MAS", hub);
  NodeUnderTest stranger(tmp, "ANT", hub);
  hub.Enrol("MAS", enrolled.key());
  hub.Start();
  stranger.Import(Generate(tmp, "ANT", {"--participants", "5"}, "ant.jsonl"));
  enrolled.Import(Generate(tmp, "MAS", {"--participants", "5"}, "mas.jsonl"));

  RunResult refused = stranger.Sync(20);
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  EXPECT_NE(refused.err.find("not enrolled"), std::string::npos) << refused.Describe();

  enrolled.MustSync();
  ExpectSiteConverged(hub, enrolled);
  EXPECT_TRUE(hub.SiteStatus("ANT").is_null());
  EXPECT_EQ(hub.ExportSite("ANT"), "");
  hub.Stop();
}

TEST(SyncAdmission, RevokedKeyIsDroppedWhileOtherSitesKeepSyncing) {
  TempDir tmp("osrc-sync-revoked");
  HubUnderTest hub(tmp);
  NodeUnderTest mas(tmp, "MAS", hub);
  NodeUnderTest ant(tmp, "ANT", hub);
  hub.Enrol("MAS", mas.key());
  hub.Enrol("ANT", ant.key());
  hub.Start();
  mas.Import(Generate(tmp, "MAS", {"--participants", "10"}, "mas.jsonl"));
  ant.Import(Generate(tmp, "ANT", {"--participants", "10"}, "ant.jsonl"));
  mas.MustSync();
  ant.MustSync();

  // MAS's daemon is connected and in step when the hub revokes it.
  mas.Start();
  ASSERT_TRUE(PollUntil(DeadlineIn(seconds(30)), [&] { return mas.Status()["link"] == "in step"; }))
      << mas.Status().dump();
  hub.Cli({"revoke", "--site", "MAS"});
  const std::string new_record =
      R"({"site":"MAS","family_name":"Revoked","given_name":"After","consent":true})";
  mas.Put("participants", "MAS-P0900001", new_record);
  // The connected daemon is refused from its next message on.
  EXPECT_TRUE(mas.daemon()->WaitForOutputLine("not enrolled", DeadlineIn(seconds(30)),
                                              Stream::kStderr))
      << mas.daemon()->stderr_text();
  mas.Stop();

  // A new session is refused too.
  RunResult refused = mas.Sync(20);
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  EXPECT_NE(refused.err.find("not enrolled"), std::string::npos) << refused.Describe();
  EXPECT_EQ(hub.ExportSite("MAS").find("MAS-P0900001"), std::string::npos);
  EXPECT_EQ(hub.SiteStatus("MAS")["revoked"], true);

  // ANT is unaffected.
  ant.Put("participants", "ANT-P0000003", R"({"occupation":"seafarer"})");
  ant.MustSync();
  ExpectSiteConverged(hub, ant);
  hub.Stop();
}

TEST(SyncAdmission, KeyEnrolledForAnotherSiteIsRefusedWithoutHarmingOthers) {
  TempDir tmp("osrc-sync-mismatch");
  HubUnderTest hub(tmp);
  NodeUnderTest mas(tmp, "MAS", hub);
  NodeUnderTest ant(tmp, "ANT", hub);
  NodeUnderTest impostor(tmp, "MAG", hub);  // calls itself MAG, enrolled as ADS
  hub.Enrol("MAS", mas.key());
  hub.Enrol("ANT", ant.key());
  hub.Enrol("ADS", impostor.key());
  hub.Start();
  mas.Import(Generate(tmp, "MAS", {"--participants", "20"}, "mas.jsonl"));
  ant.Import(Generate(tmp, "ANT", {"--participants", "20"}, "ant.jsonl"));
  impostor.Import(Generate(tmp, "MAG", {"--participants", "20"}, "mag.jsonl"));

  // All three at once: the impostor is refused, the others are not disturbed.
  Process mas_sync(mas.SyncArgs());
  Process impostor_sync(impostor.SyncArgs(20));
  Process ant_sync(ant.SyncArgs());
  std::optional<ExitStatus> refused = impostor_sync.WaitFor(seconds(50));
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->success());
  std::string err = impostor_sync.stderr_text();
  EXPECT_NE(err.find("MAG"), std::string::npos) << err;
  EXPECT_NE(err.find("ADS"), std::string::npos) << err;
  std::optional<ExitStatus> mas_done = mas_sync.WaitFor(seconds(50));
  std::optional<ExitStatus> ant_done = ant_sync.WaitFor(seconds(50));
  ASSERT_TRUE(mas_done && mas_done->success()) << mas_sync.stderr_text();
  ASSERT_TRUE(ant_done && ant_done->success()) << ant_sync.stderr_text();

  // The others keep working afterwards.
  mas.Put("participants", "MAS-P0000002", R"({"occupation":"nurse"})");
  ant.Delete("services", "ANT-S0000001");
  mas.MustSync();
  ant.MustSync();
  ExpectSiteConverged(hub, mas);
  ExpectSiteConverged(hub, ant);

  EXPECT_EQ(hub.ExportSite("MAG"), "");
  EXPECT_EQ(hub.ExportSite("ADS"), "");
  EXPECT_TRUE(hub.SiteStatus("MAG").is_null());
  EXPECT_EQ(hub.SiteStatus("ADS")["acked"], 0);
  EXPECT_EQ(FilterExport(hub.ExportAll(), true).find("MAG-"), std::string::npos);
  hub.Stop();
}

// ---------------------------------------------------------------------------------------------
// 5-6. Crashes mid-sync.

// Waits until the hub has acknowledged a good part (a fifth or more) but not all of `total`
// changes of `site`; false if it never shows such a count (too fast, or stuck) before the
// deadline.
bool WaitForPartialAck(HubUnderTest& hub, const std::string& site, uint64_t total,
                       uint64_t* acked) {
  return PollUntil(DeadlineIn(seconds(60)), [&] {
    json entry = hub.SiteStatus(site);
    *acked = entry.is_object() ? entry["acked"].get<uint64_t>() : 0;
    return *acked >= total / 5;
  }, milliseconds(20)) && *acked < total;
}

// Waits until the node's daemon is in step with everything acknowledged.
bool WaitForNodeInStep(NodeUnderTest& node, json* status) {
  return PollUntil(DeadlineIn(seconds(90)), [&] {
    *status = node.Status();
    return (*status)["link"] == "in step" && (*status)["acked"] == (*status)["log_head"];
  }, milliseconds(200));
}

// Asserts that the hub holds exactly `total` distinct records of `site`, equal to the node's.
void ExpectNoLossNoDuplicates(HubUnderTest& hub, NodeUnderTest& node, size_t total) {
  std::string hub_export = hub.ExportSite(node.site());
  std::vector<std::string> lines = SplitLines(hub_export);
  std::set<std::pair<std::string, std::string>> ids;
  for (const std::string& line : lines) {
    json record = json::parse(line);
    ids.emplace(record["collection"], record["id"]);
  }
  EXPECT_EQ(lines.size(), total);
  EXPECT_EQ(ids.size(), total);
  json entry = hub.SiteStatus(node.site());
  EXPECT_EQ(entry["records"], total) << entry.dump();
  EXPECT_EQ(entry["acked"], total) << entry.dump();
  EXPECT_TRUE(SameExport("export of " + node.site() + "'s records", node.ExportOwn(), hub_export));
}

TEST(SyncRecovery, SiteKilledMidSyncResumesWithoutLossOrDuplicates) {
  TempDir tmp("osrc-sync-site-crash");
  HubUnderTest hub(tmp);
  NodeUnderTest mas(tmp, "MAS", hub);
  hub.Enrol("MAS", mas.key());
  constexpr size_t kTotal = 100'000;
  mas.Import(Generate(tmp, "MAS", {"--participants", "50000", "--services-per", "1"}, "big.jsonl"));
  ASSERT_EQ(mas.Status()["log_head"], kTotal);
  hub.Start();

  mas.Start();
  uint64_t acked = 0;
  ASSERT_TRUE(WaitForPartialAck(hub, "MAS", kTotal, &acked))
      << "hub acknowledged " << acked << " of " << kTotal << " before the kill could happen";
  mas.Crash();
  uint64_t acked_at_crash = hub.SiteStatus("MAS")["acked"];
  EXPECT_LT(acked_at_crash, kTotal) << "the site finished before it was killed";

  mas.Start();
  json status;
  ASSERT_TRUE(WaitForNodeInStep(mas, &status)) << status.dump() << "\n"
                                               << mas.daemon()->stderr_text();
  EXPECT_EQ(status["acked"], kTotal);
  EXPECT_EQ(status["pending"], 0);
  ExpectNoLossNoDuplicates(hub, mas, kTotal);
  mas.Stop();
  hub.Stop();
}

TEST(SyncRecovery, HubKilledMidSyncIsRejoinedByTheRunningSiteWithoutLoss) {
  TempDir tmp("osrc-sync-hub-crash");
  HubUnderTest hub(tmp);
  NodeUnderTest mas(tmp, "MAS", hub);
  hub.Enrol("MAS", mas.key());
  constexpr size_t kTotal = 60'000;
  mas.Import(Generate(tmp, "MAS", {"--participants", "30000", "--services-per", "1"}, "big.jsonl"));
  ASSERT_EQ(mas.Status()["log_head"], kTotal);
  hub.Start();

  mas.Start();
  uint64_t acked = 0;
  ASSERT_TRUE(WaitForPartialAck(hub, "MAS", kTotal, &acked))
      << "hub acknowledged " << acked << " of " << kTotal << " before the kill could happen";
  hub.Crash();
  uint64_t acked_at_crash = hub.SiteStatus("MAS")["acked"];
  EXPECT_LT(acked_at_crash, kTotal) << "the site finished before the hub was killed";
  EXPECT_TRUE(mas.daemon()->running());

  hub.Start();  // same data folder, same port; the site's daemon must find it by itself
  json status;
  ASSERT_TRUE(WaitForNodeInStep(mas, &status)) << status.dump() << "\n"
                                               << mas.daemon()->stderr_text();
  EXPECT_EQ(status["acked"], kTotal);
  ExpectNoLossNoDuplicates(hub, mas, kTotal);
  mas.Stop();
  hub.Stop();
}

}  // namespace
}  // namespace osrc::testing
