// A hub whose store holds corrupt entries (garbage bytes written with the storage API while it is
// stopped) keeps serving every other site, and names each bad entry in its log.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "storage/store.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kGarbage = "\xff\x00\x13garbage\x7f not a stored entry"sv;

// The id of the first participant of an osrc-gen sample file.
std::string FirstParticipant(const std::string& file) {
  for (const std::string& line : SplitLines(ReadFile(file))) {
    nlohmann::json record = nlohmann::json::parse(line);
    if (record.at("collection") == "participants") return record.at("id");
  }
  throw std::runtime_error("no participant in " + file);
}

std::string HubLog(const ClusterHub& hub) { return ReadFile(hub.Path("hub.log")); }

TEST(HubCorruptEntry, OtherSitesSyncAndTheLogNamesEachBadEntry) {
  TempDir tmp("osrc-hub-corrupt");
  ClusterHub hub(tmp);
  // MAS: its enrolment goes bad. ANT: one of its records at the hub. MAG: a hub correction to
  // it in the hub log. ADS: nothing of it; it must stay in step throughout.
  ClusterNode mas(tmp, "MAS", hub), ant(tmp, "ANT", hub), mag(tmp, "MAG", hub),
      ads(tmp, "ADS", hub);
  std::string ant_id, mag_id, ads_id;
  for (ClusterNode* node : {&mas, &ant, &mag, &ads}) {
    std::string file =
        GenerateSample(tmp, node->site(), {"--participants", "5"}, node->site() + ".jsonl");
    node->Import(file);
    if (node == &ant) ant_id = FirstParticipant(file);
    if (node == &mag) mag_id = FirstParticipant(file);
    if (node == &ads) ads_id = FirstParticipant(file);
  }
  hub.Start();
  for (ClusterNode* node : {&mas, &ant, &mag, &ads}) node->MustSync();
  hub.Cli({"put", "participants", mag_id, "--json", R"({"occupation":"hub correction"})"});
  hub.Stop();

  {
    storage::Store store(hub.dir(), storage::EnvOptions{});
    storage::WriteTxn txn(store.env());
    store.sites().Put(txn, "MAS", kGarbage);
    txn.Put(store.records(), storage::RecordKey("participants", ant_id), kGarbage);
    uint64_t correction = store.LogHead(txn);
    txn.Put(store.log().dbi(), storage::SeqKey(correction), kGarbage);
    txn.Commit();
  }
  hub.Start();

  // ADS writes and syncs to in step while the others meet their bad entries.
  ads.Put("participants", ads_id, R"({"occupation":"after the corruption"})");
  ads.MustSync();
  EXPECT_FALSE(mas.Sync(10).ok()) << "MAS was admitted without a readable enrolment";
  ant.Put("participants", ant_id, R"({"occupation":"meets a corrupt record"})");
  EXPECT_FALSE(ant.Sync(10).ok()) << "ANT's push onto a corrupt record was acknowledged";
  EXPECT_FALSE(mag.Sync(10).ok()) << "MAG was delivered a corrupt hub log entry";
  ASSERT_TRUE(hub.running()) << hub.daemon()->stderr_text();

  ads.Put("participants", ads_id, R"({"occupation":"still served"})");
  ads.MustSync();  // exit 0: reached in step
  nlohmann::json status = ads.Status();
  EXPECT_EQ(status["pending"], 0) << status.dump();
  EXPECT_EQ(status["acked"], status["log_head"]) << status.dump();
  EXPECT_TRUE(Contains(hub.Cli({"get", "participants", ads_id}), "still served"));

  std::string log = HubLog(hub);
  EXPECT_TRUE(Contains(log, "site MAS: enrolment entry unreadable")) << log;
  EXPECT_TRUE(Contains(log, "site ANT: push")) << log;
  EXPECT_TRUE(Contains(log, ant_id)) << log;
  EXPECT_TRUE(Contains(log, "site MAG: cannot deliver")) << log;
  EXPECT_TRUE(Contains(log, "hub log entry")) << log;
  ASSERT_TRUE(hub.running()) << hub.daemon()->stderr_text();
  hub.Stop();  // exit 0: no abort
}

}  // namespace
}  // namespace osrc::testing
