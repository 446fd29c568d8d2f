// Tests that exports keep personal data in: fields the schema marks pii (names, birth date,
// phone, case notes, referral reasons) leave a site or the hub only with --include-personal,
// which the hub's audit trail records.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

constexpr const char* kPersonal[] = {"\"family_name\"", "\"given_name\"", "\"birth_date\"",
                                     "\"phone\"",       "\"notes\"",      "\"reason\""};

size_t PersonalFieldsIn(const std::string& text) {
  size_t found = 0;
  for (const char* field : kPersonal) found += Contains(text, field) ? 1 : 0;
  return found;
}

TEST(PersonalExport, PersonalFieldsLeaveOnlyWhenAskedForAndTheHubRecordsIt) {
  TempDir tmp("osrc-personal-export");
  ClusterHub hub(tmp);
  ClusterNode mas(tmp, "MAS", hub);
  hub.Start();
  mas.Import(
      GenerateSample(tmp, "MAS", {"--participants", "20", "--referrals-per", "1"}, "mas.jsonl"));
  mas.MustSync();

  std::string site_default = mas.Cli({"export"});
  std::string site_all = mas.Cli({"export", "--include-personal"});
  EXPECT_EQ(PersonalFieldsIn(site_default), 0u);
  EXPECT_EQ(PersonalFieldsIn(site_all), std::size(kPersonal));
  EXPECT_EQ(SplitLines(site_default).size(), SplitLines(site_all).size());
  EXPECT_TRUE(Contains(site_default, "\"consent\":"));  // the rest is there

  std::string csv = mas.Cli({"export", "--collection", "participants", "--format", "csv"});
  EXPECT_TRUE(csv.starts_with("id,site,sex,civil_status,province,")) << csv.substr(0, 80);

  EXPECT_EQ(PersonalFieldsIn(hub.Cli({"export", "--site", "MAS"})), 0u);
  EXPECT_EQ(PersonalFieldsIn(hub.Cli({"export", "--site", "MAS", "--include-personal"})),
            std::size(kPersonal));
  std::vector<std::string> audit = SplitLines(hub.Cli({"audit"}));
  ASSERT_GE(audit.size(), 2u);
  EXPECT_TRUE(audit[audit.size() - 2].ends_with("export  site MAS, all collections")) << audit[0];
  EXPECT_TRUE(audit.back().ends_with("export  site MAS, all collections, with personal fields"))
      << audit.back();
  hub.Stop();
}

}  // namespace
}  // namespace osrc::testing
