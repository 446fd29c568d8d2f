// USB bundles with real processes: `osrc-node bundle export FILE`, `osrc-hub bundle import FILE
// --reply REPLY`, `osrc-node bundle import REPLY`.
//  - A round trip brings the site in step and delivers reference data; importing the same
//    bundle (or reply) twice changes nothing.
//  - Truncated and bit-flipped bundles, a bundle from a node that is not enrolled or that sealed
//    it for another hub, a reply meant for another site, a site bundle fed back as a reply and
//    replayed older bundles and replies are each rejected with a clear one-line message, and
//    nothing is applied (the hub's full status and export, or the node's, are unchanged).
//  - Bundles and network syncs mix freely.
// Bit-flip positions beyond a fixed set (magic, kind, sender key, nonce, ciphertext) are random
// from a seeded RNG (set OSRC_BUNDLE_SEED to replay).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;

// Everything the hub holds that a bundle import could change.
struct HubState {
  json status;
  std::string records;
  bool operator==(const HubState&) const = default;
};

HubState StateOf(const ClusterHub& hub) { return {hub.Status(), hub.Export()}; }

// Everything a node holds that a reply import could change.
struct NodeState {
  json status;
  std::string records;
  bool operator==(const NodeState&) const = default;
};

NodeState StateOf(const ClusterNode& node) { return {node.Status(), node.Export()}; }

// The same without the fields every accepted reply refreshes: the last contact and the clock
// offset measured against it.
NodeState StableStateOf(const ClusterNode& node) {
  NodeState state = StateOf(node);
  state.status.erase("last_contact_ms");
  state.status.erase("clock_offset_ms");
  return state;
}

// The hub's site entry without the contact and report times (which every accepted bundle
// refreshes).
json StableSiteStatus(const ClusterHub& hub, const std::string& site) {
  json entry = hub.SiteStatus(site);
  entry.erase("last_contact_ms");
  entry.erase("reported_ms");
  return entry;
}

// Asserts a clear refusal: exit 1 and one line on stderr naming the program and containing
// `word`.
void ExpectRefused(const RunResult& result, const std::string& program, const std::string& word) {
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  std::vector<std::string> lines = SplitLines(result.err);
  ASSERT_EQ(lines.size(), 1u) << result.Describe();
  EXPECT_EQ(lines[0].rfind(program + ": ", 0), 0u) << result.Describe();
  EXPECT_TRUE(Contains(lines[0], word)) << "no \"" << word << "\" in: " << result.Describe();
}

std::string ReplyImportHub(const ClusterHub& hub, const std::string& bundle,
                           const std::string& reply) {
  return hub.Cli({"bundle", "import", bundle, "--reply", reply});
}

TEST(Bundle, RoundTripBringsTheSiteInStepAndDeliversReferenceData) {
  TempDir tmp("osrc-bundle-trip");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "100"}, "mas.jsonl"));
  std::string countries = tmp.Path("countries.jsonl");
  WriteFile(countries,
            R"j({"collection":"countries","id":"XK","fields":{"name":"Kosovo (by bundle)"}})j"
            "\n");
  hub.Cli({"ref", "import", "countries", countries});
  ASSERT_NE(mas.Run({"get", "countries", "XK"}).exit_code, 0);

  const std::string bundle = tmp.Path("mas-1.bundle"), reply = tmp.Path("mas-1.reply");
  EXPECT_TRUE(Contains(mas.Cli({"bundle", "export", bundle}), "changes 1..300"));
  EXPECT_TRUE(Contains(ReplyImportHub(hub, bundle, reply), "300 changes applied"));
  EXPECT_EQ(hub.SiteStatus("MAS")["acked"], 300);
  EXPECT_TRUE(Contains(mas.Cli({"bundle", "import", reply}), "acknowledged 300"));

  json status = mas.Status();
  EXPECT_EQ(status["acked"], status["log_head"]) << status.dump();
  EXPECT_EQ(status["pending"], 0) << status.dump();
  json hub_status = hub.Status();
  EXPECT_EQ(status["epoch"], hub_status["epoch"]);
  EXPECT_EQ(status["reference_version"], hub_status["log_head"]);
  EXPECT_EQ(mas.Get("countries", "XK"), hub.Cli({"get", "countries", "XK"}));
  EXPECT_TRUE(Contains(mas.Get("countries", "XK"), "Kosovo (by bundle)"));
  EXPECT_TRUE(SameExport("exports of MAS (site, hub)", mas.ExportOwn(), hub.ExportSite("MAS")));
  EXPECT_TRUE(SameExport("reference data (site, hub)", FilterExport(mas.Export(), false),
                         FilterExport(hub.Export(), false)));

  // The same bundle again: accepted, nothing applied, nothing changed.
  json site_before = StableSiteStatus(hub, "MAS");
  std::string records_before = hub.Export();
  const std::string reply_again = tmp.Path("mas-1-again.reply");
  EXPECT_TRUE(Contains(ReplyImportHub(hub, bundle, reply_again), "0 changes applied"));
  EXPECT_EQ(StableSiteStatus(hub, "MAS"), site_before);
  EXPECT_EQ(hub.Status()["log_head"], hub_status["log_head"]);
  EXPECT_TRUE(
      SameExport("hub exports before and after the repeated bundle", hub.Export(), records_before));

  // The same reply again, and the reply to the repeated bundle: the node does not change. (Each
  // reply import re-measures the clock offset against the hub clock in the reply and records it
  // as the last contact, so those two fields are left out.)
  NodeState node_before = StableStateOf(mas);
  std::string first_output = mas.Cli({"bundle", "import", reply});
  EXPECT_TRUE(StableStateOf(mas) == node_before) << mas.Status().dump();
  EXPECT_EQ(mas.Cli({"bundle", "import", reply}), first_output);
  mas.Cli({"bundle", "import", reply_again});
  EXPECT_TRUE(StableStateOf(mas) == node_before) << mas.Status().dump();
}

TEST(Bundle, DamagedForeignAndReplayedBundlesAreRejectedAndApplyNothing) {
  const uint32_t seed = static_cast<uint32_t>(SeedFromEnv("OSRC_BUNDLE_SEED", 20261130));
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set OSRC_BUNDLE_SEED to replay)");
  std::mt19937 rng(seed);
  TempDir tmp("osrc-bundle-reject");
  ClusterHub hub(tmp);
  ClusterHub other_hub(tmp, "other-hub");
  ClusterNode mas(tmp, "MAS", hub);
  ClusterNode ant(tmp, "ANT", hub);
  ClusterNode::Options not_enrolled;
  not_enrolled.enrol = false;
  ClusterNode mag(tmp, "MAG", hub, not_enrolled);
  ClusterNode::Options wrong_hub;
  wrong_hub.hub_key = other_hub.key();
  ClusterNode ads(tmp, "ADS", hub, wrong_hub);  // enrolled here, but seals for the other hub
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "50"}, "mas.jsonl"));
  ant.Import(GenerateSample(tmp, "ANT", {"--participants", "20"}, "ant.jsonl"));
  mag.Import(GenerateSample(tmp, "MAG", {"--participants", "20"}, "mag.jsonl"));
  ads.Import(GenerateSample(tmp, "ADS", {"--participants", "20"}, "ads.jsonl"));

  const std::string good = tmp.Path("mas-1.bundle");
  mas.Cli({"bundle", "export", good});
  const std::string sealed = ReadFile(good);
  ASSERT_GT(sealed.size(), 200u);
  const HubState hub_before = StateOf(hub);
  auto expect_hub_refuses = [&](const std::string& file, const std::string& word,
                                const std::string& what) {
    SCOPED_TRACE(what);
    ExpectRefused(hub.Run({"bundle", "import", file, "--reply", tmp.Path("never.reply")}),
                  "osrc-hub", word);
    EXPECT_TRUE(StateOf(hub) == hub_before) << "the hub changed after a refused bundle";
  };

  // Truncated anywhere: in the header, at the end of it, halfway, one byte short.
  for (size_t length : {size_t{0}, size_t{7}, size_t{40}, size_t{65}, size_t{81}, sealed.size() / 2,
                        sealed.size() - 8, sealed.size() - 1}) {
    std::string file = tmp.Path("truncated-" + std::to_string(length) + ".bundle");
    WriteFile(file, sealed.substr(0, length));
    expect_hub_refuses(file, "truncated", "truncated to " + std::to_string(length) + " bytes");
  }

  // One bit flipped: in the magic, the kind byte, the sender key, the nonce, the ciphertext.
  std::vector<size_t> positions = {0, 8, 20, 50, 65, 100, sealed.size() - 1};
  for (int i = 0; i < 8; ++i) {
    positions.push_back(std::uniform_int_distribution<size_t>(0, sealed.size() - 1)(rng));
  }
  for (size_t position : positions) {
    int bit = std::uniform_int_distribution<int>(0, 7)(rng);
    std::string flipped = sealed;
    flipped[position] = static_cast<char>(flipped[position] ^ (1 << bit));
    std::string file = tmp.Path("flipped-" + std::to_string(position) + ".bundle");
    WriteFile(file, flipped);
    expect_hub_refuses(file, "bundle",
                       "bit " + std::to_string(bit) + " of byte " + std::to_string(position));
  }

  // From a node that is not enrolled, and from one that sealed it for another hub.
  const std::string from_mag = tmp.Path("mag.bundle");
  mag.Cli({"bundle", "export", from_mag});
  expect_hub_refuses(from_mag, "not enrolled", "bundle of a node not enrolled");
  const std::string from_ads = tmp.Path("ads.bundle");
  ads.Cli({"bundle", "export", from_ads});
  expect_hub_refuses(from_ads, "does not open", "bundle sealed for another hub");

  // The good bundle still goes through.
  const std::string good_reply = tmp.Path("mas-1.reply");
  EXPECT_TRUE(Contains(ReplyImportHub(hub, good, good_reply), "150 changes applied"));

  // A reply meant for another site, and a site bundle fed back as a reply: the node refuses.
  const std::string ant_bundle = tmp.Path("ant.bundle"), ant_reply = tmp.Path("ant.reply");
  ant.Cli({"bundle", "export", ant_bundle});
  ReplyImportHub(hub, ant_bundle, ant_reply);
  const NodeState mas_before = StateOf(mas);
  {
    SCOPED_TRACE("reply for ANT imported at MAS");
    ExpectRefused(mas.Run({"bundle", "import", ant_reply}), "osrc-node", "does not open");
    EXPECT_TRUE(StateOf(mas) == mas_before);
  }
  {
    SCOPED_TRACE("site bundle imported as a reply");
    ExpectRefused(mas.Run({"bundle", "import", good}), "osrc-node", "bundle");
    EXPECT_TRUE(StateOf(mas) == mas_before);
  }
  {
    SCOPED_TRACE("reply with a flipped bit");
    std::string flipped = ReadFile(good_reply);
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x04);
    WriteFile(tmp.Path("flipped.reply"), flipped);
    ExpectRefused(mas.Run({"bundle", "import", tmp.Path("flipped.reply")}), "osrc-node", "bundle");
    EXPECT_TRUE(StateOf(mas) == mas_before);
  }
  mas.Cli({"bundle", "import", good_reply});
  ASSERT_EQ(mas.Status()["pending"], 0);

  // Replays: bundle 2 and 3 exported, 3 imported, then 2: refused as older.
  mas.Put("participants", "MAS-P0000001", R"({"occupation":"in bundle 2"})");
  const std::string b2 = tmp.Path("mas-2.bundle"), b3 = tmp.Path("mas-3.bundle");
  mas.Cli({"bundle", "export", b2});
  mas.Put("participants", "MAS-P0000002", R"({"occupation":"in bundle 3"})");
  mas.Cli({"bundle", "export", b3});
  const std::string r3 = tmp.Path("mas-3.reply");
  EXPECT_TRUE(Contains(ReplyImportHub(hub, b3, r3), "2 changes applied"));
  {
    SCOPED_TRACE("older bundle after a newer one");
    const HubState before = StateOf(hub);
    ExpectRefused(hub.Run({"bundle", "import", b2, "--reply", tmp.Path("mas-2.reply")}), "osrc-hub",
                  "older");
    EXPECT_TRUE(StateOf(hub) == before);
  }
  // At the node: replies 4 and 5, 5 imported, then 4: refused as older.
  const std::string b4 = tmp.Path("mas-4.bundle"), b5 = tmp.Path("mas-5.bundle");
  mas.Cli({"bundle", "export", b4});
  mas.Cli({"bundle", "export", b5});
  const std::string r4 = tmp.Path("mas-4.reply"), r5 = tmp.Path("mas-5.reply");
  ReplyImportHub(hub, b4, r4);
  ReplyImportHub(hub, b5, r5);
  mas.Cli({"bundle", "import", r5});
  {
    SCOPED_TRACE("older reply after a newer one");
    const NodeState before = StateOf(mas);
    ExpectRefused(mas.Run({"bundle", "import", r4}), "osrc-node", "older");
    EXPECT_TRUE(StateOf(mas) == before);
  }
  json status = mas.Status();
  EXPECT_EQ(status["acked"], status["log_head"]) << status.dump();
  EXPECT_TRUE(SameExport("exports of MAS (site, hub)", mas.ExportOwn(), hub.ExportSite("MAS")));
  EXPECT_EQ(hub.ExportSite("MAG"), "");
  EXPECT_EQ(hub.SiteStatus("ADS")["acked"], 0);
}

TEST(Bundle, BundlesAndNetworkSyncsMixFreely) {
  TempDir tmp("osrc-bundle-mix");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  hub.Start();  // bundles are imported beside the running daemon

  // 1. By bundle.
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "50"}, "mas-1.jsonl"));
  mas.Cli({"bundle", "export", tmp.Path("1.bundle")});
  ReplyImportHub(hub, tmp.Path("1.bundle"), tmp.Path("1.reply"));
  mas.Cli({"bundle", "import", tmp.Path("1.reply")});
  EXPECT_EQ(mas.Status()["pending"], 0);

  // 2. Over the network, with a central correction to bring back.
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "50", "--start", "51"}, "mas-2.jsonl"));
  hub.Cli({"put", "participants", "MAS-P0000001", "--json", R"({"occupation":"hub correction"})"});
  mas.MustSync();
  ExpectConverged(hub, mas);
  EXPECT_TRUE(Contains(mas.Get("participants", "MAS-P0000001"), "hub correction"));

  // 3. By bundle again: only what the network sync left pending travels.
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "50", "--start", "101"}, "mas-3.jsonl"));
  mas.Put("participants", "MAS-P0000002", R"({"occupation":"site edit"})");
  std::string countries = tmp.Path("countries.jsonl");
  WriteFile(countries, R"({"collection":"countries","id":"XK","fields":{"name":"Kosovo"}})"
                       "\n");
  hub.Cli({"ref", "import", "countries", countries});
  const uint64_t acked = mas.Status()["acked"];
  const uint64_t head = mas.Status()["log_head"];
  EXPECT_TRUE(Contains(mas.Cli({"bundle", "export", tmp.Path("2.bundle")}),
                       "changes " + std::to_string(acked + 1) + ".." + std::to_string(head)));
  EXPECT_TRUE(Contains(ReplyImportHub(hub, tmp.Path("2.bundle"), tmp.Path("2.reply")),
                       std::to_string(head - acked) + " changes applied"));
  mas.Cli({"bundle", "import", tmp.Path("2.reply")});
  json status = mas.Status();
  EXPECT_TRUE(status["acked"] == status["log_head"] && status["pending"] == 0) << status.dump();
  EXPECT_TRUE(SameExport("exports of MAS (site, hub)", mas.ExportOwn(), hub.ExportSite("MAS")));
  EXPECT_EQ(mas.Get("countries", "XK"), hub.Cli({"get", "countries", "XK"}));

  // 4. And the network again: everything identical, and the hub learns that the site applied
  // the reply's deliveries (its status shows nothing pending for the site).
  mas.Put("participants", "MAS-P0000003", R"({"occupation":"by network"})");
  mas.MustSync();
  ExpectConverged(hub, mas);
  EXPECT_TRUE(SameExport("reference data (site, hub)", FilterExport(mas.Export(), false),
                         FilterExport(hub.Export(), false)));
  status = mas.Status();
  EXPECT_EQ(status["reference_version"], hub.Status()["log_head"]);
  hub.Stop();
}

// A reply's hub clock is of unknown age, not a live reading: it may only raise the site's clock
// offset. Were it taken as live, a reply carried on a USB stick for some time would make the site
// believe its clock that much ahead: later edits stamped in the past (an edit made after a
// central correction losing to it), and past max_skew_ms its pending changes re-stamped back to
// the time of the reply. Simulated
// here by a reply written four minutes "ago" (the hub's clock set back by four minutes while it
// imports the bundle; the site's stamps stay within max_skew_ms of it).
TEST(Bundle, AReplyCarriedForMinutesDoesNotSetTheSiteClockBack) {
  TempDir tmp("osrc-bundle-stale");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(GenerateSample(tmp, "MAS", {"--participants", "5"}, "mas.jsonl"));
  const std::string bundle = tmp.Path("1.bundle"), reply = tmp.Path("1.reply");
  mas.Cli({"bundle", "export", bundle});
  ProcessOptions four_minutes_ago;
  four_minutes_ago.env = {{"OSRC_CLOCK_SKEW_MS", "-240000"}};
  Checked(RunWith(
      BinArgs("osrc-hub", {"bundle", "import", bundle, "--reply", reply, "--data", hub.dir()}),
      four_minutes_ago));
  mas.Cli({"bundle", "import", reply});
  json status = mas.Status();
  EXPECT_LT(std::abs(status["clock_offset_ms"].get<int64_t>()), 60'000) << status.dump();
}

}  // namespace
}  // namespace osrc::testing
