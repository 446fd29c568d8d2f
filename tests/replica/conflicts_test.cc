// Tests of replica/conflicts.h: a conflict's key is the store's (so resolving one removes exactly
// it), its id is stable and distinct, filters select by site, collection and field, and personal
// values are masked unless asked for.
#include "replica/conflicts.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/schema_loader.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::replica {
namespace {

protocol::Change Put(std::string id, std::string origin, uint64_t stamp, std::string field,
                     std::string value) {
  protocol::Change change;
  change.collection = "participants";
  change.id = std::move(id);
  change.origin = std::move(origin);
  change.seq = 1;
  change.stamp = stamp;
  change.fields = {{std::move(field), std::move(value), 0}};
  return change;
}

ConflictFilter Filter(std::string site, std::string collection, std::string field) {
  ConflictFilter filter;
  filter.site = std::move(site);
  filter.collection = std::move(collection);
  filter.field = std::move(field);
  return filter;
}

class ConflictsTest : public ::testing::Test {
 protected:
  ConflictsTest() : dir_("osrc-conflicts-test") {
    storage::EnvOptions options;
    options.map_size = size_t{64} << 20;
    options.durable = false;
    store_ = std::make_unique<storage::Store>(dir_.path(), options);
    // Two origins write each field unseen by the other: one conflict each.
    for (const auto& [id, field] : std::vector<std::pair<std::string, std::string>>{
             {"MAS-P1", "phone"}, {"MAS-P1", "occupation"}, {"KAB-P1", "occupation"}}) {
      Apply(Put(id, id.substr(0, 3), 10 << 16, field, "site " + field));
      Apply(Put(id, "MNL", 20 << 16, field, "hub " + field));
    }
  }
  void Apply(const protocol::Change& change) {
    storage::WriteTxn txn(store_->env());
    store_->Apply(txn, change);
    txn.Commit();
  }
  std::vector<storage::StoredConflict> List(const ConflictFilter& filter = {}) {
    storage::ReadTxn txn(store_->env());
    std::vector<storage::StoredConflict> out;
    ForEachMatchingConflict(*store_, txn, filter,
                            [&](const storage::StoredConflict& c) { out.push_back(c); });
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
};

TEST_F(ConflictsTest, KeyIsTheStoresAndIdsAreStableAndDistinct) {
  std::vector<storage::StoredConflict> all = List();
  ASSERT_EQ(all.size(), 3u);
  std::set<std::string> ids;
  storage::ReadTxn txn(store_->env());
  for (const storage::StoredConflict& c : all) {
    EXPECT_TRUE(txn.Get(store_->conflicts(), ConflictKey(c)).has_value()) << c.id;
    std::string id = ConflictId(c);
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 3u);
  // The same conflict read again has the same id.
  EXPECT_EQ(ConflictId(List()[0]), ConflictId(all[0]));
}

TEST_F(ConflictsTest, FiltersBySiteCollectionAndField) {
  EXPECT_EQ(List(Filter("MAS", "", "")).size(), 2u);
  EXPECT_EQ(List(Filter("KAB", "", "")).size(), 1u);
  EXPECT_EQ(List(Filter("MA", "", "")).size(), 0u);
  EXPECT_EQ(List(Filter("", "", "occupation")).size(), 2u);
  EXPECT_EQ(List(Filter("MAS", "participants", "phone")).size(), 1u);
  EXPECT_EQ(List(Filter("", "services", "")).size(), 0u);
}

TEST_F(ConflictsTest, PersonalValuesAreMaskedUnlessAskedFor) {
  std::vector<storage::StoredConflict> phone = List(Filter("", "", "phone"));
  ASSERT_EQ(phone.size(), 1u);
  const config::Schema& schema = config::DefaultSchema();
  EXPECT_TRUE(IsPersonal(schema, phone[0]));
  std::string masked = ConflictLine(schema, phone[0], false, false);
  EXPECT_EQ(masked, ConflictId(phone[0]) +
                        " participants/MAS-P1 field phone: kept (personal) from MNL at "
                        "1970-01-01T00:00:00Z, lost (personal) from MAS at 1970-01-01T00:00:00Z\n");
  std::string shown = ConflictLine(schema, phone[0], true, true);
  EXPECT_NE(shown.find(R"("value":"hub phone")"), std::string::npos) << shown;
  EXPECT_NE(shown.find(R"("value":"site phone")"), std::string::npos) << shown;
  std::vector<storage::StoredConflict> job = List(Filter("KAB", "", ""));
  ASSERT_EQ(job.size(), 1u);
  EXPECT_FALSE(IsPersonal(schema, job[0]));
  EXPECT_NE(ConflictLine(schema, job[0], false, false).find("kept \"hub occupation\" from MNL"),
            std::string::npos);
}

}  // namespace
}  // namespace osrc::replica
