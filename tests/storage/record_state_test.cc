// Tests of storage/record_state.h: encoding round trips, fields written together share one
// version; the view decoder: for every kind of value, with and without a
// tombstone, DecodeFieldViews reads the same fields and values as DecodeRecordState, and it
// refuses the malformed bytes DecodeRecordState refuses. A new record's state encoded straight
// from its first change is the bytes a merge into no state encodes.
#include "storage/record_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "base/error.h"
#include "storage/merge.h"

namespace osrc::storage {
namespace {

// The value of `view` as a protocol::Value, for comparing with the full decoder (floats are not
// read by views: reports never count them).
protocol::Value ValueOf(const FieldView& view, const protocol::Value& full) {
  switch (view.tag) {
    case 0:
      return std::monostate{};
    case 1:
      return false;
    case 2:
      return true;
    case 3:
      return view.number;
    case 4:
      return full;
    default:
      return std::string(view.text);
  }
}

RecordState RandomState(std::mt19937& rng) {
  RecordState state;
  if (rng() % 3 == 0) {
    state.tombstone = Version{rng() % 1000, "MNL", Base{rng() % 100, "MAS"}};
    state.tomb_seen["notes"] = Base{rng() % 50, "ANT"};
  }
  const protocol::Value values[] = {std::monostate{},         true,         false,
                                    int64_t{-123456789},      int64_t{42},  2.5,
                                    std::string("Dela Cruz"), std::string()};
  size_t fields = rng() % 6;
  Version shared{rng() % 1000, "MAS", Base{rng() % 10, "MNL"}};
  for (size_t i = 0; i < fields; ++i) {
    Version own{rng() % 1000, rng() % 2 ? "MAS" : "ANT", Base{rng() % 10, ""}};
    state.fields["f" + std::to_string(i)] = {values[rng() % std::size(values)],
                                             rng() % 3 ? shared : own};
  }
  return state;
}

TEST(RecordStateViews, ReadTheSameFieldsAsTheFullDecoder) {
  std::mt19937 rng(5);
  std::vector<FieldView> views;
  for (int trial = 0; trial < 500; ++trial) {
    RecordState state = RandomState(rng);
    std::string bytes = EncodeRecordState(state);
    RecordState full = DecodeRecordState(bytes);
    DecodeFieldViews(bytes, &views);
    ASSERT_EQ(views.size(), full.fields.size()) << "trial " << trial;
    auto it = full.fields.begin();
    for (const FieldView& view : views) {
      EXPECT_EQ(view.name, it->first);
      EXPECT_EQ(ValueOf(view, it->second.value), it->second.value) << "trial " << trial;
      ++it;
    }
    EXPECT_EQ(views.empty(), !full.live());
  }
}

TEST(RecordStateViews, LivenessReadsAsTheFullDecoderSays) {
  std::mt19937 rng(9);
  int live = 0, tombstones = 0;
  for (int trial = 0; trial < 500; ++trial) {
    RecordState state = RandomState(rng);
    std::string bytes = EncodeRecordState(state);
    ASSERT_EQ(RecordStateLive(bytes), DecodeRecordState(bytes).live()) << "trial " << trial;
    live += state.live();
    tombstones += state.tombstone.has_value();
  }
  EXPECT_GT(live, 0);
  EXPECT_LT(live, 500) << "no state without fields: the test shows nothing";
  EXPECT_GT(tombstones, 0);
  EXPECT_THROW(RecordStateLive(std::string_view("\0", 1)), Error) << "the field count is missing";
}

TEST(RecordStateEncoding, RoundTripsWithSharedAndOwnVersions) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    RecordState state = RandomState(rng);
    EXPECT_EQ(DecodeRecordState(EncodeRecordState(state)), state) << "trial " << trial;
  }
}

TEST(RecordStateEncoding, FieldsWrittenTogetherStoreTheirVersionOnce) {
  RecordState one_field, ten_fields;
  Version version{uint64_t{1} << 56, "MAS", Base{uint64_t{1} << 55, "MNL"}};
  one_field.fields["f0"] = {int64_t{1}, version};
  for (int i = 0; i < 10; ++i) ten_fields.fields["f" + std::to_string(i)] = {int64_t{1}, version};
  // Each further field costs its name (3 bytes), tag (1) and value (1): no version bytes.
  EXPECT_EQ(EncodeRecordState(ten_fields).size(), EncodeRecordState(one_field).size() + 9 * 5);
}

TEST(RecordStateEncoding, ANewRecordEncodesAsItsMergeIntoNoState) {
  std::mt19937 rng(13);
  const protocol::Value values[] = {std::monostate{},         true,         int64_t{-7}, -0.0,
                                    std::string("Tawi-Tawi"), std::string()};
  int with_own_versions = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    protocol::Change change{
        "participants", "MAS-P1", trial % 2 ? "MAS" : "MNL", 1, rng() % 100000, 0, false, {}};
    size_t fields = 1 + rng() % 8;
    for (size_t i = 0; i < fields; ++i) {
      uint64_t base = rng() % 4 == 0 ? rng() % 3 : 0;
      std::string base_origin = base != 0 && rng() % 2 ? "ANT" : "";
      change.fields.emplace_back("f" + std::to_string(i), values[rng() % std::size(values)], base,
                                 base_origin);
    }
    RecordState merged;
    ASSERT_TRUE(Merge(change, &merged).changed);
    auto fresh = EncodeNewRecordState(change);
    ASSERT_TRUE(fresh.has_value()) << "trial " << trial;
    EXPECT_EQ(*fresh, EncodeRecordState(merged)) << "trial " << trial;
    with_own_versions += std::any_of(change.fields.begin(), change.fields.end(),
                                     [&](auto& f) { return f.base != change.fields.front().base; });
  }
  EXPECT_GT(with_own_versions, 100) << "fields rarely differ: own versions go untested";
}

TEST(RecordStateEncoding, OnlyPlainSortedWritesEncodeAsANewRecord) {
  protocol::Change change{
      "participants", "MAS-P1", "MAS", 1, 5, 0, false, {{"b", int64_t{1}}, {"a", int64_t{2}}}};
  EXPECT_FALSE(EncodeNewRecordState(change)) << "unsorted fields";
  change.fields = {{"a", int64_t{1}}, {"a", int64_t{2}}};
  EXPECT_FALSE(EncodeNewRecordState(change)) << "a field twice";
  change.fields = {{"a", int64_t{1}}};
  change.deleted = true;
  EXPECT_FALSE(EncodeNewRecordState(change)) << "a delete";
  change.deleted = false;
  change.fields.clear();
  EXPECT_FALSE(EncodeNewRecordState(change)) << "no fields: nothing to store";
}

TEST(RecordStateViews, MalformedBytesAreCorruption) {
  RecordState state;
  state.fields["sex"] = {std::string("F"), Version{7, "MAS", {}}};
  std::string bytes = EncodeRecordState(state);
  std::vector<FieldView> views;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_THROW(DecodeFieldViews(bytes.substr(0, cut), &views), Error) << "cut at " << cut;
  }
  EXPECT_THROW(DecodeFieldViews(bytes + "x", &views), Error);
}

}  // namespace
}  // namespace osrc::storage
