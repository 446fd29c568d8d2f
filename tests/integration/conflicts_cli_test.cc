// Conflicts worked to the end from the command line: a real conflict (the hub and a site edit the
// same fields between two syncs) is listed at the hub with a stable id, kept and lost values with
// origin and time, personal values masked unless --show-personal (which is audited); the site
// lists its own. Resolving it with --keep loser or --value is a central correction that reaches
// the site at its next sync; --keep winner dismisses; every resolution is audited, recorded and
// leaves the open list and the status count; an unknown id is a clear error.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;

std::vector<json> ConflictsOf(const ClusterHub& hub) {
  std::vector<json> out;
  for (const std::string& line : SplitLines(hub.Cli({"conflicts", "list", "--json"}))) {
    out.push_back(json::parse(line));
  }
  return out;
}

json FieldsOf(const std::string& record_line) { return json::parse(record_line)["fields"]; }

TEST(ConflictsCli, ListedMaskedResolvedAndDeliveredToTheSite) {
  TempDir tmp("osrc-conflicts");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "5", "--services-per", "1"}, "mas.jsonl"));
  hub.Start();
  mas.MustSync();
  ExpectConverged(hub, mas);

  // Both sides edit three fields of one record between two syncs: three conflicts.
  const std::string id = "MAS-P0000001";
  hub.Cli({"put", "participants", id, "--json",
           R"({"occupation":"hub job","phone":"+1 111","municipality":"Hubtown"})"});
  mas.Put("participants", id,
          R"({"occupation":"site job","phone":"+2 222","municipality":"Sitetown"})");
  mas.MustSync();
  mas.MustSync();  // in step both ways
  std::vector<json> conflicts = ConflictsOf(hub);
  ASSERT_EQ(conflicts.size(), 3u) << hub.Cli({"conflicts", "list"});
  EXPECT_EQ(hub.Status()["conflicts"], 3);
  EXPECT_TRUE(Contains(hub.Cli({"metrics"}), "\nosrc_conflicts_open 3\n"));
  std::map<std::string, json> by_field;
  for (const json& c : conflicts) {
    EXPECT_EQ(c["id"], id);
    EXPECT_EQ(c["conflict"].get<std::string>().size(), 16u) << c.dump();
    by_field[c["field"]] = c;
  }
  ASSERT_EQ(by_field.size(), 3u);
  // Personal fields masked; others shown with origins and times.
  EXPECT_EQ(by_field["phone"]["personal"], true);
  EXPECT_EQ(by_field["phone"]["loser"]["value"], "(personal)");
  EXPECT_EQ(by_field["occupation"]["personal"], false);
  const json& occupation = by_field["occupation"];
  const std::set<std::string> jobs = {occupation["winner"]["value"], occupation["loser"]["value"]};
  EXPECT_EQ(jobs, (std::set<std::string>{"hub job", "site job"})) << occupation.dump();
  EXPECT_NE(occupation["winner"]["origin"], occupation["loser"]["origin"]);
  EXPECT_EQ(occupation["loser"]["time"].get<std::string>().size(), 20u) << occupation.dump();
  // The text form and the bare `conflicts` give the same ids; filters narrow.
  std::string text = hub.Cli({"conflicts"});
  EXPECT_TRUE(Contains(text, occupation["conflict"].get<std::string>() + " participants/" + id +
                                 " field occupation: kept"))
      << text;
  EXPECT_FALSE(Contains(text, "+1 111")) << text;
  EXPECT_EQ(SplitLines(hub.Cli({"conflicts", "list", "--field", "municipality"})).size(), 1u);
  EXPECT_EQ(hub.Cli({"conflicts", "list", "--site", "KAB"}), "");
  // --show-personal shows them, and is audited.
  std::string shown = hub.Cli({"conflicts", "list", "--show-personal", "--field", "phone"});
  EXPECT_TRUE(Contains(shown, "+1 111") && Contains(shown, "+2 222")) << shown;
  EXPECT_TRUE(Contains(hub.Cli({"audit"}), "view personal")) << hub.Cli({"audit"});
  // The site lists the conflicts on its own records.
  std::vector<std::string> at_site = SplitLines(mas.Cli({"conflicts"}));
  EXPECT_EQ(at_site.size(), 3u) << mas.Cli({"conflicts"});

  // Take the lost occupation: a correction that reaches the site.
  const std::string lost_job = occupation["loser"]["value"];
  std::string out = hub.Cli({"conflicts", "resolve", occupation["conflict"], "--keep", "loser"});
  EXPECT_TRUE(Contains(out, "resolved " + occupation["conflict"].get<std::string>())) << out;
  // A new value for the phone.
  hub.Cli({"conflicts", "resolve", by_field["phone"]["conflict"], "--value", R"("+3 333")"});
  // Dismiss the municipality: the winner stays.
  const std::string kept_note = by_field["municipality"]["winner"]["value"];
  hub.Cli({"conflicts", "resolve", by_field["municipality"]["conflict"], "--keep", "winner"});
  EXPECT_EQ(hub.Cli({"conflicts", "list"}), "");
  EXPECT_EQ(hub.Status()["conflicts"], 0);
  EXPECT_TRUE(Contains(hub.Cli({"metrics"}), "\nosrc_conflicts_open 0\n"));

  mas.MustSync();
  ExpectConverged(hub, mas);
  json fields = FieldsOf(mas.Get("participants", id));
  EXPECT_EQ(fields["occupation"], lost_job) << fields.dump();
  EXPECT_EQ(fields["phone"], "+3 333") << fields.dump();
  EXPECT_EQ(fields["municipality"], kept_note) << fields.dump();
  EXPECT_EQ(hub.Cli({"conflicts", "list"}), "") << "a resolution made a new conflict";

  // Who and when: in the audit trail and the resolved list.
  std::string audit = hub.Cli({"audit"});
  EXPECT_TRUE(Contains(audit, "conflict resolution")) << audit;
  std::vector<std::string> resolved = SplitLines(ReadFile(hub.Path("conflicts-resolved.jsonl")));
  ASSERT_EQ(resolved.size(), 3u);
  json first = json::parse(resolved[0]);
  EXPECT_EQ(first["conflict"], occupation["conflict"]);
  EXPECT_EQ(first["decision"], "keep loser");
  EXPECT_TRUE(Contains(first["actor"].get<std::string>(), "cli:")) << first.dump();
  // The phone's new value is personal: it stays in the store, where an erasure reaches it.
  EXPECT_EQ(json::parse(resolved[1])["value"], "(personal)") << resolved[1];

  // An unknown or already resolved id, and a bad value, are clear errors that change nothing.
  RunResult again = hub.Run({"conflicts", "resolve", occupation["conflict"], "--keep", "loser"});
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
  EXPECT_TRUE(Contains(again.err, "no open conflict")) << again.err;
  RunResult neither = hub.Run({"conflicts", "resolve", "0123456789abcdef"});
  EXPECT_EQ(neither.exit_code, 1) << neither.Describe();
  EXPECT_TRUE(Contains(neither.err, "--keep winner|loser or --value")) << neither.err;
}

}  // namespace
}  // namespace osrc::testing
