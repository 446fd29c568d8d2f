// Tests of applying a site's push at the hub (hub/apply.h): references to site records are checked
// against what the hub ever held before anything of the push is applied.
#include "hub/apply.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/schema_loader.h"
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::hub {
namespace {

using protocol::Field;

protocol::Change ChangeOf(uint64_t seq, std::string collection, std::string id,
                          std::vector<Field> fields, bool deleted = false) {
  protocol::Change change;
  change.collection = std::move(collection);
  change.id = std::move(id);
  change.origin = "MAS";
  change.seq = seq;
  change.stamp = storage::StampOf(1'700'000'000'000 + seq);
  change.fields = std::move(fields);
  change.deleted = deleted;
  return change;
}

protocol::Change Participant(uint64_t seq, std::string id) {
  return ChangeOf(seq, "participants", std::move(id),
                  {{"consent", true, 0},
                   {"family_name", std::string("Cruz"), 0},
                   {"given_name", std::string("Ana"), 0},
                   {"site", std::string("MAS"), 0}});
}

protocol::Change Service(uint64_t seq, std::string id, std::string participant) {
  return ChangeOf(seq, "services", std::move(id),
                  {{"date", std::string("2024-03-01"), 0},
                   {"participant_id", std::move(participant), 0},
                   {"service_type", std::string("referral"), 0}});
}

class ApplyTest : public ::testing::Test {
 protected:
  ApplyTest()
      : dir_("osrc-apply-test"),
        store_(std::make_unique<storage::Store>(
            dir_.path(), storage::EnvOptions{.map_size = size_t{64} << 20, .durable = false})) {
    site_.code = "MAS";
  }

  // Applies `changes` from `first` in one transaction, committed if it applied.
  Status Push(uint64_t first, const std::vector<protocol::Change>& changes, size_t* applied) {
    storage::WriteTxn txn(store_->env());
    protocol::Ack ack;
    Status status =
        ApplyPush(*store_, txn, config::DefaultSchema(), site_, first, changes, applied, &ack);
    if (status.ok()) txn.Commit();
    return status;
  }
  bool Live(std::string_view collection, std::string_view id) {
    storage::ReadTxn txn(store_->env());
    auto state = store_->GetRecord(txn, collection, id);
    return state && state->live();
  }

  osrc::testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  SiteEntry site_;
};

TEST_F(ApplyTest, AReferenceToARecordEarlierInThePushIsAccepted) {
  size_t applied = 0;
  ASSERT_TRUE(Push(1, {Participant(1, "MAS-P1"), Service(2, "MAS-S1", "MAS-P1")}, &applied).ok());
  EXPECT_EQ(applied, 2u);
  EXPECT_EQ(site_.acked, 2u);
  // And in a later push.
  ASSERT_TRUE(Push(3, {Service(3, "MAS-S2", "MAS-P1")}, &applied).ok());
  EXPECT_TRUE(Live("services", "MAS-S2"));
}

TEST_F(ApplyTest, AReferenceToAnIdNeverSeenRefusesTheWholePush) {
  size_t applied = 0;
  Status status = Push(
      1, {Participant(1, "MAS-P1"), Service(2, "MAS-S1", "MAS-P1"), Service(3, "MAS-S2", "MAS-P9")},
      &applied);
  EXPECT_EQ(status.code(), ErrorCode::kBadInput);
  EXPECT_EQ(status.ToString(),
            "change 3: services/MAS-S2: field \"participant_id\": no participants record "
            "\"MAS-P9\"");
  EXPECT_EQ(applied, 0u);
  EXPECT_EQ(site_.acked, 0u);
  EXPECT_FALSE(Live("participants", "MAS-P1"));
}

TEST_F(ApplyTest, AReferenceToARecordDeletedAtTheHubIsAccepted) {
  // The hub deleted the participant centrally while the site kept writing services to it: the
  // site wrote in good faith, and refusing would block its link for ever.
  size_t applied = 0;
  ASSERT_TRUE(Push(1, {Participant(1, "MAS-P1")}, &applied).ok());
  {
    storage::WriteTxn txn(store_->env());
    protocol::Change removal = ChangeOf(0, "participants", "MAS-P1", {}, /*deleted=*/true);
    removal.origin = "MNL";
    removal.stamp = storage::StampOf(1'800'000'000'000);
    store_->Apply(txn, removal);
    txn.Commit();
  }
  ASSERT_FALSE(Live("participants", "MAS-P1"));
  ASSERT_TRUE(Push(2, {Service(2, "MAS-S1", "MAS-P1")}, &applied).ok());
  EXPECT_TRUE(Live("services", "MAS-S1"));
  EXPECT_EQ(site_.acked, 2u);
}

TEST_F(ApplyTest, ChangesAlreadyHeldAndGapsAreNotChecked) {
  size_t applied = 0;
  ASSERT_TRUE(Push(1, {Participant(1, "MAS-P1")}, &applied).ok());
  // A gap applies nothing, whatever it names.
  ASSERT_TRUE(Push(5, {Service(5, "MAS-S1", "MAS-P9")}, &applied).ok());
  EXPECT_EQ(site_.acked, 1u);
  EXPECT_FALSE(Live("services", "MAS-S1"));
}

}  // namespace
}  // namespace osrc::hub
