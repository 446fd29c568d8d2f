// End-to-end sync tests: a real osrc-hub daemon and real osrc-node processes talking CurveZMQ on
// 127.0.0.1, each test in its own temporary directory with its own free port.
//
// Processes are stopped by pid (SIGTERM, then wait for the exit) or killed (SIGKILL) where a
// crash is the point. Nothing sleeps to synchronise: the tests wait for the hub's readiness line,
// for a line on a daemon's stderr, for `osrc-node sync` to exit, or poll `status --json` until a
// condition holds or a deadline passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Options of a node that is not enrolled under its own site.
ClusterNode::Options NotEnrolled() {
  ClusterNode::Options options;
  options.enrol = false;
  return options;
}

// Runs syncs of several nodes at the same time; each must reach "in step".
void SyncConcurrently(const std::vector<ClusterNode*>& nodes) {
  std::vector<std::unique_ptr<Process>> syncs;
  for (ClusterNode* node : nodes) syncs.push_back(node->StartSync());
  for (size_t i = 0; i < syncs.size(); ++i) {
    std::optional<ExitStatus> status = syncs[i]->WaitFor(seconds(60));
    if (!status || !status->success()) {
      throw std::runtime_error("concurrent sync of " + nodes[i]->site() + " failed (" +
                               (status ? status->ToString() : "no exit in 60 s") +
                               "): " + syncs[i]->stderr_text());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Convergence under random interleavings.

// Random work on four sites and the hub between random syncs.
class SyncConvergence : public ::testing::Test {
 protected:
  using Rng = std::mt19937_64;

  template <typename T>
  static const T& Pick(Rng& rng, const std::vector<T>& values) {
    return values[std::uniform_int_distribution<size_t>(0, values.size() - 1)(rng)];
  }
  static bool Chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }
  static int Between(Rng& rng, int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  }

  // A random field update of a record of `collection`, as a JSON object; `tag` makes text unique.
  static std::string RandomFields(Rng& rng, const std::string& collection, const std::string& tag) {
    static const std::vector<std::string> kOccupations = {"seafarer", "caregiver", "nurse",
                                                          "farmer",   "driver",    "teacher"};
    json fields = json::object();
    if (collection == "participants") {
      switch (Between(rng, 0, 3)) {
        case 0:
          fields["occupation"] = Pick(rng, kOccupations) + " " + tag;
          break;
        case 1:
          fields["phone"] = "0917" + std::to_string(Between(rng, 1000000, 9999999));
          break;
        case 2:
          fields["phone"] = nullptr;
          break;
        default:
          fields["civil_status"] =
              Pick(rng, std::vector<std::string>{"single", "married", "widowed", "separated"});
          fields["occupation"] = Pick(rng, kOccupations);
      }
    } else if (collection == "services") {
      fields["outcome"] =
          Pick(rng, std::vector<std::string>{"completed", "ongoing", "referred", "no_show"});
      if (Chance(rng, 0.5)) fields["notes"] = "follow-up " + tag;
    } else if (collection == "referrals") {
      fields["status"] =
          Pick(rng, std::vector<std::string>{"pending", "accepted", "completed", "declined"});
      fields["followup_date"] =
          "2026-0" + std::to_string(Between(rng, 1, 9)) + "-1" + std::to_string(Between(rng, 0, 9));
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
  const uint64_t seed = SeedFromEnv("OSRC_SYNC_SEED", 20240611);
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set OSRC_SYNC_SEED to replay)");
  Rng rng(seed);
  TempDir tmp("osrc-sync-converge");
  ClusterHub hub(tmp);
  const std::vector<std::string> codes = {"MAS", "ANT", "MAG", "ADS"};
  std::map<std::string, std::unique_ptr<ClusterNode>> nodes;
  for (const std::string& code : codes) nodes[code] = std::make_unique<ClusterNode>(tmp, code, hub);
  hub.Start();

  constexpr int kRounds = 4;
  constexpr int kParticipantsPerRound = 15;
  int tag = 0;
  auto next_tag = [&] { return std::to_string(++tag); };

  // Records each site has edited, and records of each site the hub has corrected.
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> edited, corrected;

  // A site imports a fresh batch of sample data, then updates and deletes some of its records.
  auto site_work = [&](const std::string& code, int round) {
    ClusterNode& node = *nodes[code];
    std::string start = std::to_string(round * kParticipantsPerRound + 1);
    std::string file =
        GenerateSample(tmp, code,
                       {"--participants", std::to_string(kParticipantsPerRound), "--start", start,
                        "--services-per", "2", "--referrals-per", "1", "--trainings",
                        round == 0 ? "2" : "0", "--seed", std::to_string(seed % 1000 + 1)},
                       "gen-" + code + "-" + std::to_string(round) + ".jsonl");
    node.Import(file);
    auto records = RecordKeys(node.ExportOwn());
    std::set<std::pair<std::string, std::string>> live(records.begin(), records.end());
    for (int i = Between(rng, 3, 8); i > 0; --i) {
      // Often a record the hub has corrected (concurrent edits of the same fields), else any.
      std::pair<std::string, std::string> record = Pick(rng, records);
      if (!corrected[code].empty() && Chance(rng, 0.4)) {
        const auto& candidate = Pick(rng, corrected[code]);
        if (live.contains(candidate)) record = candidate;
      }
      node.Put(record.first, record.second, RandomFields(rng, record.first, code + next_tag()));
      edited[code].push_back(record);
    }
    for (int i = Between(rng, 0, 2); i > 0 && !records.empty(); --i) {
      size_t at = std::uniform_int_distribution<size_t>(0, records.size() - 1)(rng);
      // A participant or training goes with the records that reference it.
      node.Delete(records[at].first, records[at].second, /*cascade=*/true);
      records = RecordKeys(node.ExportOwn());
    }
  };
  // The hub corrects or deletes records of random sites that it already holds.
  auto hub_corrections = [&] {
    for (int i = Between(rng, 2, 5); i > 0; --i) {
      const std::string& code = Pick(rng, codes);
      auto records = RecordKeys(hub.ExportSite(code));
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
        hub.Cli({"delete", collection, id, "--cascade"});
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
                  std::to_string(round) +
                  "\"}}\n"
                  "{\"collection\":\"countries\",\"id\":\"PH\",\"fields\":{\"name\":\"Philippines "
                  "(rev " +
                  std::to_string(round) + ")\"}}\n");
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
      std::vector<ClusterNode*> some;
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

  std::string hub_reference = FilterExport(hub.Export(), false);
  std::string hub_countries = hub.Cli({"export", "--collection", "countries"});
  ASSERT_NE(hub_countries.find("Kosovo 3"), std::string::npos);
  ASSERT_EQ(hub_countries.find("\"AQ\""), std::string::npos);
  for (const std::string& code : codes) {
    SCOPED_TRACE("site " + code);
    ClusterNode& node = *nodes[code];
    std::string own = node.ExportOwn();
    EXPECT_GT(SplitLines(own).size(), static_cast<size_t>(kRounds * kParticipantsPerRound));
    ExpectConverged(hub, node);
    EXPECT_TRUE(
        SameExport("countries", node.Cli({"export", "--collection", "countries"}), hub_countries));
    EXPECT_TRUE(SameExport("reference data", FilterExport(node.Export(), false), hub_reference));
  }
  // The hub kept the losing sides of concurrent edits for review: the run did exercise conflicts.
  RecordProperty("hub_conflicts", std::to_string(hub.Status()["conflicts"].get<uint64_t>()));
  // Site records travel only to their own site: the hub holds exactly the four sites' records.
  size_t site_lines = 0;
  for (const std::string& code : codes) site_lines += SplitLines(hub.ExportSite(code)).size();
  EXPECT_EQ(SplitLines(FilterExport(hub.Export(), true)).size(), site_lines);
  hub.Stop();
}

// ---------------------------------------------------------------------------------------------
// 2-4. Admission: enrolment, revocation, a key enrolled under another site's code.

// A hub (not started) and the sites MAS and ANT, each with `participants` sample participants.
struct TwoSites {
  TwoSites(const std::string& name, int participants, ClusterNode::Options ant_options = {})
      : tmp(name), hub(tmp), mas(tmp, "MAS", hub), ant(tmp, "ANT", hub, std::move(ant_options)) {
    std::string count = std::to_string(participants);
    mas.Import(GenerateSample(tmp, "MAS", {"--participants", count}, "mas.jsonl"));
    ant.Import(GenerateSample(tmp, "ANT", {"--participants", count}, "ant.jsonl"));
  }

  TempDir tmp;
  ClusterHub hub;
  ClusterNode mas;
  ClusterNode ant;
};

TEST(SyncAdmission, UnenrolledKeyIsRefusedWithNotEnrolled) {
  TwoSites sites("osrc-sync-unenrolled", 5, NotEnrolled());
  auto& [tmp, hub, enrolled, stranger] = sites;
  hub.Start();

  RunResult refused = stranger.Sync(20);
  EXPECT_NE(refused.exit_code, 0) << refused.Describe();
  EXPECT_NE(refused.err.find("not enrolled"), std::string::npos) << refused.Describe();

  enrolled.MustSync();
  ExpectConverged(hub, enrolled);
  EXPECT_TRUE(hub.SiteStatus("ANT").is_null());
  EXPECT_EQ(hub.ExportSite("ANT"), "");
  hub.Stop();
}

TEST(SyncAdmission, RevokedKeyIsDroppedWhileOtherSitesKeepSyncing) {
  TwoSites sites("osrc-sync-revoked", 10);
  auto& [tmp, hub, mas, ant] = sites;
  hub.Start();
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
  EXPECT_TRUE(
      mas.daemon()->WaitForOutputLine("not enrolled", DeadlineIn(seconds(30)), Stream::kStderr))
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
  ExpectConverged(hub, ant);
  hub.Stop();
}

TEST(SyncAdmission, KeyEnrolledForAnotherSiteIsRefusedWithoutHarmingOthers) {
  TwoSites sites("osrc-sync-mismatch", 20);
  auto& [tmp, hub, mas, ant] = sites;
  ClusterNode impostor(tmp, "MAG", hub, NotEnrolled());  // calls itself MAG, enrolled as ADS
  hub.Enrol("ADS", impostor.key());
  impostor.Import(GenerateSample(tmp, "MAG", {"--participants", "20"}, "mag.jsonl"));
  hub.Start();

  // All three at once: the impostor is refused, the others are not disturbed.
  std::unique_ptr<Process> mas_sync = mas.StartSync();
  std::unique_ptr<Process> impostor_sync = impostor.StartSync(20);
  std::unique_ptr<Process> ant_sync = ant.StartSync();
  std::optional<ExitStatus> refused = impostor_sync->WaitFor(seconds(50));
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->success());
  std::string err = impostor_sync->stderr_text();
  EXPECT_NE(err.find("MAG"), std::string::npos) << err;
  EXPECT_NE(err.find("ADS"), std::string::npos) << err;
  std::optional<ExitStatus> mas_done = mas_sync->WaitFor(seconds(50));
  std::optional<ExitStatus> ant_done = ant_sync->WaitFor(seconds(50));
  ASSERT_TRUE(mas_done && mas_done->success()) << mas_sync->stderr_text();
  ASSERT_TRUE(ant_done && ant_done->success()) << ant_sync->stderr_text();

  // The others keep working afterwards.
  mas.Put("participants", "MAS-P0000002", R"({"occupation":"nurse"})");
  ant.Delete("services", "ANT-S0000001");
  mas.MustSync();
  ant.MustSync();
  ExpectConverged(hub, mas);
  ExpectConverged(hub, ant);

  EXPECT_EQ(hub.ExportSite("MAG"), "");
  EXPECT_EQ(hub.ExportSite("ADS"), "");
  EXPECT_TRUE(hub.SiteStatus("MAG").is_null());
  EXPECT_EQ(hub.SiteStatus("ADS")["acked"], 0);
  EXPECT_EQ(FilterExport(hub.Export(), true).find("MAG-"), std::string::npos);
  hub.Stop();
}

// ---------------------------------------------------------------------------------------------
// 5-6. Crashes mid-sync.

// MAS's daemon pushing a large change log to the hub; a test kills one side mid-sync.
class SyncRecovery : public ::testing::Test {
 protected:
  // Starts the hub and MAS's daemon with `total` changes to push (total / 2 participants with one
  // service each), and waits until the hub has acknowledged a good part (a fifth or more) but not
  // all of them.
  void StartPartialSync(const std::string& name, size_t total) {
    total_ = total;
    tmp_ = std::make_unique<TempDir>(name);
    hub_ = std::make_unique<ClusterHub>(*tmp_);
    mas_ = std::make_unique<ClusterNode>(*tmp_, "MAS", *hub_);
    mas_->Import(GenerateSample(
        *tmp_, "MAS", {"--participants", std::to_string(total / 2), "--services-per", "1"},
        "big.jsonl"));
    ASSERT_EQ(mas_->Status()["log_head"], total);
    hub_->Start();
    mas_->Start();
    uint64_t acked = 0;
    bool reached = PollUntil(
        DeadlineIn(seconds(60)),
        [&] {
          json entry = hub_->SiteStatus("MAS");
          acked = entry.is_object() ? entry["acked"].get<uint64_t>() : 0;
          return acked >= total / 5;
        },
        milliseconds(20));
    ASSERT_TRUE(reached && acked < total)
        << "hub acknowledged " << acked << " of " << total << " before the kill could happen";
  }

  uint64_t HubAcked() const { return hub_->SiteStatus("MAS")["acked"]; }

  // Waits until MAS's daemon is in step again, then checks that the hub holds every change once
  // (`*status`: MAS's last status); stops both daemons.
  void ExpectResumedInFull(json* status) {
    ASSERT_TRUE(WaitInStep(*mas_, seconds(90), status)) << status->dump() << "\n"
                                                        << mas_->daemon()->stderr_text();
    EXPECT_EQ((*status)["acked"], total_);
    ExpectSameRecordsOnce(*hub_, *mas_, total_);
    json entry = hub_->SiteStatus("MAS");
    EXPECT_EQ(entry["records"], total_) << entry.dump();
    EXPECT_EQ(entry["acked"], total_) << entry.dump();
    mas_->Stop();
    hub_->Stop();
  }

  std::unique_ptr<TempDir> tmp_;
  std::unique_ptr<ClusterHub> hub_;
  std::unique_ptr<ClusterNode> mas_;
  size_t total_ = 0;
};

TEST_F(SyncRecovery, SiteKilledMidSyncResumesWithoutLossOrDuplicates) {
  ASSERT_NO_FATAL_FAILURE(StartPartialSync("osrc-sync-site-crash", 100'000));
  mas_->Crash();
  EXPECT_LT(HubAcked(), total_) << "the site finished before it was killed";
  mas_->Start();
  json status;
  ASSERT_NO_FATAL_FAILURE(ExpectResumedInFull(&status));
  EXPECT_EQ(status["pending"], 0);
}

TEST_F(SyncRecovery, HubKilledMidSyncIsRejoinedByTheRunningSiteWithoutLoss) {
  ASSERT_NO_FATAL_FAILURE(StartPartialSync("osrc-sync-hub-crash", 60'000));
  hub_->Crash();
  EXPECT_LT(HubAcked(), total_) << "the site finished before the hub was killed";
  EXPECT_TRUE(mas_->daemon()->running());
  hub_->Start();  // same data folder, same port; the site's daemon must find it by itself
  json status;
  ExpectResumedInFull(&status);
}

// ---------------------------------------------------------------------------------------------
// A participant deleted centrally (with --cascade) while its site, not yet told, records a new
// service for it: the hub merges the service (the site wrote in good faith, and refusing would
// block its link for ever), the site receives the deletes, and both hold the same.

TEST(SyncCascade, CentralCascadeDeleteCrossingASitesNewServiceConverges) {
  TempDir tmp("osrc-sync-cascade");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "3", "--services-per", "2"}, "mas.jsonl"));
  hub.Start();
  mas.MustSync();

  RunResult refused = hub.Run({"delete", "participants", "MAS-P0000001"});
  EXPECT_EQ(refused.exit_code, 1) << refused.Describe();
  EXPECT_EQ(refused.err,
            "osrc-hub: participants/MAS-P0000001: referenced by 2 services; delete those first, or "
            "delete with --cascade to delete them too\n");
  EXPECT_EQ(hub.Cli({"delete", "participants", "MAS-P0000001", "--cascade"}),
            "deleted participants/MAS-P0000001 and 2 records that referenced it: 2 services\n");

  mas.Put("services", "MAS-S0000099",
          R"({"participant_id":"MAS-P0000001","service_type":"referral","date":"2023-05-01"})");
  mas.MustSync();
  ExpectConverged(hub, mas);
  EXPECT_NE(mas.Run({"get", "participants", "MAS-P0000001"}).exit_code, 0);
  EXPECT_NE(mas.Run({"get", "services", "MAS-S0000002"}).exit_code, 0);
  EXPECT_EQ(hub.Cli({"get", "services", "MAS-S0000099"}), mas.Get("services", "MAS-S0000099"));
}

}  // namespace
}  // namespace osrc::testing
