// Erasure orders with real processes (osrc-hub erase, osrc-node erase): a participant with a
// service and a referral is erased at a site that syncs over the network and at one that only
// carries bundles; afterwards no byte of any file in the hub's or either site's data folder
// (store, logs, registers) holds a value of the erased records. The same after the hub is
// restored from a backup taken before the erasures. A stale write to an erased id from a site
// that had not heard of the erasure brings no value back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/cluster.h"

namespace osrc::testing {
namespace {

namespace fs = std::filesystem;

// The distinctive values of one site's participant, its service and its referral.
struct Person {
  std::string family, given, phone, service_notes, referral_reason, correction;
};

Person PersonOf(const std::string& site) {
  return {"Zqfamily" + site,
          "Zqgiven" + site,
          "+63-9" + site + "-771-0042",
          "Zqservicenote" + site + " counselling on contract fraud",
          "Zqreferralreason" + site + " passport withheld",
          "Zqcorrected" + site};
}

void WritePerson(const ClusterNode& node, const Person& p) {
  const std::string& s = node.site();
  node.Put("participants", s + "-P1",
           R"({"site":")" + s + R"(","family_name":")" + p.family + R"(","given_name":")" +
               p.given + R"(","phone":")" + p.phone + R"(","consent":true})");
  node.Put(
      "services", s + "-S1",
      R"({"participant_id":")" + s +
          R"(-P1","service_type":"legal_migration_counselling","date":"2026-11-02","notes":")" +
          p.service_notes + R"("})");
  node.Put("referrals", s + "-R1",
           R"({"participant_id":")" + s + R"(-P1","agency":"DMW","date":"2026-11-03","reason":")" +
               p.referral_reason + R"("})");
  // A record of the same site that is not erased: it must survive.
  node.Put("participants", s + "-P2",
           R"({"site":")" + s +
               R"(","family_name":"Keptfamily","given_name":"Keptgiven","consent":true})");
}

std::vector<std::string> ValuesOf(const Person& p) {
  return {p.family, p.given, p.phone, p.service_notes, p.referral_reason, p.correction};
}

// Each file under `dir` (recursively) that holds `value`, as "file: value". A running daemon
// replaces some files by rename (online.json): one gone between listing and reading holds nothing.
std::vector<std::string> FilesHolding(const std::string& dir,
                                      const std::vector<std::string>& values) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) {
      if (!fs::exists(entry.path())) continue;
      throw std::runtime_error("cannot read " + entry.path().string());
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string& value : values) {
      if (bytes.find(value) != std::string::npos)
        found.push_back(entry.path().string() + ": " + value);
    }
  }
  return found;
}

void BundleRoundTrip(const TempDir& tmp, const ClusterHub& hub, const ClusterNode& node,
                     const std::string& name) {
  const std::string bundle = tmp.Path(name + ".bundle"), reply = tmp.Path(name + ".reply");
  node.Cli({"bundle", "export", bundle});
  hub.Cli({"bundle", "import", bundle, "--reply", reply});
  node.Cli({"bundle", "import", reply});
  fs::remove(bundle);
  fs::remove(reply);
}

TEST(Erasure, NoValueLeftAtHubNetworkSiteAndBundleSiteEvenAfterRestore) {
  TempDir tmp("osrc-erasure");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);  // syncs over the network
  ClusterNode bus(tmp, "BUS", hub);  // bundles only
  hub.Start();
  Person mas_person = PersonOf("MAS"), bus_person = PersonOf("BUS");
  WritePerson(mas, mas_person);
  WritePerson(bus, bus_person);
  mas.MustSync();
  BundleRoundTrip(tmp, hub, bus, "bus-1");
  // Central corrections: the hub's own log and deliveries hold values too.
  hub.Cli({"put", "participants", "MAS-P1", "--json",
           R"({"occupation":")" + mas_person.correction + R"("})"});
  hub.Cli({"put", "participants", "BUS-P1", "--json",
           R"({"occupation":")" + bus_person.correction + R"("})"});
  mas.MustSync();
  BundleRoundTrip(tmp, hub, bus, "bus-2");
  ASSERT_TRUE(Contains(mas.Get("participants", "MAS-P1"), mas_person.correction));
  ASSERT_TRUE(Contains(bus.Get("participants", "BUS-P1"), bus_person.correction));
  const std::string backup = tmp.Path("backup-before");
  hub.Cli({"backup", "--to", backup});
  ASSERT_FALSE(FilesHolding(backup, ValuesOf(mas_person)).empty())
      << "the test's values are not in the store";

  // The hub erases MAS's participant (beside its running daemon); BUS erases its own.
  std::string erased = hub.Cli({"erase", "participants", "MAS-P1", "--reason", "request 2026-41"});
  EXPECT_TRUE(Contains(erased, "erased participants/MAS-P1 and 2 records that referenced it"))
      << erased;
  mas.MustSync();
  EXPECT_TRUE(Contains(bus.Cli({"erase", "participants", "BUS-P1", "--reason", "request 2026-42"}),
                       "erased participants/BUS-P1 and 2 records"));
  BundleRoundTrip(tmp, hub, bus, "bus-3");
  mas.MustSync();  // after the hub's log scrub, a second round changes nothing back

  for (const ClusterNode* node : {&mas, &bus}) {
    const std::string& s = node->site();
    for (const char* id : {"participants/-P1", "services/-S1", "referrals/-R1"}) {
      std::string key(id);
      std::string collection = key.substr(0, key.find('/'));
      std::string record = s + key.substr(key.find('/') + 1);
      EXPECT_EQ(node->Run({"get", collection, record}).exit_code, 1) << s << " " << record;
      EXPECT_EQ(hub.Run({"get", collection, record}).exit_code, 1) << "hub " << record;
    }
    EXPECT_TRUE(Contains(node->Get("participants", s + "-P2"), "Keptfamily"));
  }
  hub.Stop();
  std::vector<std::string> all = ValuesOf(mas_person);
  for (const std::string& v : ValuesOf(bus_person)) all.push_back(v);
  for (const std::string& dir : {hub.dir(), mas.dir(), bus.dir()}) {
    std::vector<std::string> found = FilesHolding(dir, all);
    EXPECT_TRUE(found.empty()) << dir << " still holds:\n" << ::testing::PrintToString(found);
  }

  // Restored from the backup taken before: the register erases them again before serving.
  std::string restored = hub.Cli({"restore", "--from", backup});
  EXPECT_TRUE(Contains(restored, "erased again 6 records")) << restored;
  std::vector<std::string> found = FilesHolding(hub.dir(), all);
  EXPECT_TRUE(found.empty()) << "restored hub still holds:\n" << ::testing::PrintToString(found);
  EXPECT_EQ(hub.Run({"get", "participants", "MAS-P1"}).exit_code, 1);
  EXPECT_TRUE(Contains(hub.Cli({"get", "participants", "MAS-P2"}), "Keptfamily"));
}

TEST(Erasure, StaleSiteCannotReviveAnErasedRecordAndIsTold) {
  TempDir tmp("osrc-erasure-stale");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  hub.Start();
  Person person = PersonOf("MAS");
  WritePerson(mas, person);
  mas.MustSync();
  hub.Cli({"erase", "participants", "MAS-P1", "--reason", "request 2026-43"});
  // The site has not heard of it and writes to the erased participant and its service.
  const std::string stale = "Zqstalewrite after the erasure";
  mas.Put("participants", "MAS-P1", R"({"occupation":")" + stale + R"("})");
  mas.Put("services", "MAS-S1", R"({"staff":")" + stale + R"("})");
  mas.MustSync();
  EXPECT_EQ(hub.Run({"get", "participants", "MAS-P1"}).exit_code, 1);
  EXPECT_EQ(hub.Run({"get", "services", "MAS-S1"}).exit_code, 1);
  EXPECT_EQ(mas.Run({"get", "participants", "MAS-P1"}).exit_code, 1);
  nlohmann::json status = mas.Status();
  EXPECT_EQ(status.at("erased_by_hub"), 3) << status.dump();
  EXPECT_TRUE(Contains(mas.Cli({"status"}), "erased by hub   3 records"));
  // Now that the site knows, a put there is refused, saying why.
  RunResult again =
      mas.Run({"put", "participants", "MAS-P1", "--json", R"({"occupation":"again"})"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Contains(again.err, "participants/MAS-P1: erased")) << again.Describe();
  hub.Stop();
  std::vector<std::string> values = ValuesOf(person);
  values.push_back(stale);
  for (const std::string& dir : {hub.dir(), mas.dir()}) {
    std::vector<std::string> found = FilesHolding(dir, values);
    EXPECT_TRUE(found.empty()) << dir << " still holds:\n" << ::testing::PrintToString(found);
  }
}

TEST(Erasure, DeletedReferrersLoseTheValuesTheSiteLogStillHeld) {
  TempDir tmp("osrc-erasure-deleted");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  hub.Start();
  Person person = PersonOf("MAS");
  WritePerson(mas, person);
  // A service of the person, deleted before the erasure: only the site's log keeps its notes.
  const std::string deleted_note = "Zqdeletednote legal advice on a withheld passport";
  mas.Put(
      "services", "MAS-S9",
      R"({"participant_id":"MAS-P1","service_type":"legal_migration_counselling","date":"2026-10-01",)"
      R"("notes":")" +
          deleted_note + R"("})");
  mas.Cli({"delete", "services", "MAS-S9"});
  mas.MustSync();
  hub.Cli({"erase", "participants", "MAS-P1", "--reason", "request 2026-45"});
  mas.MustSync();  // applies the hub's orders, erases MAS-S9 itself, and sends that on
  mas.MustSync();
  hub.Stop();
  std::vector<std::string> values = ValuesOf(person);
  values.pop_back();  // no correction in this test
  values.push_back(deleted_note);
  for (const std::string& dir : {hub.dir(), mas.dir()}) {
    std::vector<std::string> found = FilesHolding(dir, values);
    EXPECT_TRUE(found.empty()) << dir << " still holds:\n" << ::testing::PrintToString(found);
  }
  EXPECT_TRUE(Contains(ReadFile(mas.Path("node.log")), "erased 1 more records of this site"));
}

TEST(Erasure, RunningDaemonsClearFreedPagesWithoutBeingStopped) {
  TempDir tmp("osrc-erasure-running");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  hub.Start();
  Person person = PersonOf("MAS");
  WritePerson(mas, person);
  mas.Start();
  ASSERT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)), [&] {
    return hub.Run({"get", "referrals", "MAS-R1"}).ok();
  }));
  std::vector<std::string> values = ValuesOf(person);
  values.pop_back();  // no correction in this test
  ASSERT_FALSE(FilesHolding(hub.dir(), values).empty()) << "the test's values are not there";
  hub.Cli({"erase", "participants", "MAS-P1", "--reason", "request 2026-44"});
  // Both daemons keep running: each pauses to compact once it is alone with its store.
  std::vector<std::string> found;
  EXPECT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)),
                        [&] {
                          found = FilesHolding(hub.dir(), values);
                          for (const std::string& f : FilesHolding(mas.dir(), values))
                            found.push_back(f);
                          return found.empty();
                        }))
      << "still held:\n"
      << ::testing::PrintToString(found);
  EXPECT_TRUE(hub.running());
  EXPECT_TRUE(mas.daemon()->running());
  EXPECT_TRUE(Contains(ReadFile(hub.Path("hub.log")), "pausing to clear erased values"));
  // And they still sync.
  mas.Put("participants", "MAS-P3",
          R"({"site":"MAS","family_name":"Afterfamily","given_name":"After","consent":true})");
  EXPECT_TRUE(PollUntil(DeadlineIn(std::chrono::seconds(60)), [&] {
    return hub.Run({"get", "participants", "MAS-P3"}).ok();
  }));
  mas.Stop();
  hub.Stop();
}

}  // namespace
}  // namespace osrc::testing
