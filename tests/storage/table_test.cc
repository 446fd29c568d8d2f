// Tests of storage::Table (storage/table.h) on a store's returns table: point reads and writes,
// prefix scans and the last key under a prefix.
#include "storage/table.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::storage {
namespace {

class TableTest : public ::testing::Test {
 protected:
  TableTest() : dir_("osrc-table-test") {
    EnvOptions options;
    options.map_size = size_t{16} << 20;
    options.durable = false;
    store_ = std::make_unique<Store>(dir_.path(), options);
    WriteTxn txn(store_->env());
    for (const std::string& key :
         std::vector<std::string>{"a1", "a2", "a3", "b1", "\xff\xff", "c"}) {
      store_->returns().Put(txn, key, "v" + key);
    }
    txn.Commit();
  }

  // "key=value" of each entry a scan visits, stopping after `limit`.
  std::string Scan(std::string_view prefix, std::string_view from, size_t limit = 100) {
    ReadTxn txn(store_->env());
    std::string out;
    size_t seen = 0;
    store_->returns().Scan(txn, prefix, from, [&](std::string_view key, std::string_view value) {
      out += std::string(key) + "=" + std::string(value) + " ";
      return ++seen < limit;
    });
    return out;
  }

  std::optional<std::string> LastKey(std::string_view prefix) {
    ReadTxn txn(store_->env());
    return store_->returns().LastKey(txn, prefix);
  }

  osrc::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(TableTest, GetPutDelete) {
  WriteTxn txn(store_->env());
  Table returns = store_->returns();
  EXPECT_EQ(returns.Get(txn, "a2"), "va2");
  EXPECT_FALSE(returns.Get(txn, "a"));
  EXPECT_TRUE(returns.Delete(txn, "a2"));
  EXPECT_FALSE(returns.Delete(txn, "a2"));
  EXPECT_FALSE(returns.Get(txn, "a2"));
  EXPECT_EQ(returns.Count(txn), 5u);
}

TEST_F(TableTest, ScanVisitsOnlyItsPrefixFromTheGivenKey) {
  EXPECT_EQ(Scan("a", ""), "a1=va1 a2=va2 a3=va3 ");
  EXPECT_EQ(Scan("a", "a2"), "a2=va2 a3=va3 ");
  EXPECT_EQ(Scan("b", "a2"), "b1=vb1 ");
  EXPECT_EQ(Scan("d", ""), "");
  EXPECT_EQ(Scan("", "b"), "b1=vb1 c=vc \xff\xff=v\xff\xff ");
}

TEST_F(TableTest, ScanStopsWhenTheVisitSaysSo) { EXPECT_EQ(Scan("a", "", 2), "a1=va1 a2=va2 "); }

TEST_F(TableTest, LastKeyIsTheHighestUnderItsPrefix) {
  EXPECT_EQ(LastKey("a"), "a3");
  EXPECT_EQ(LastKey("b"), "b1");
  EXPECT_EQ(LastKey(""), std::string("\xff\xff", 2));
  EXPECT_EQ(LastKey("\xff"), std::string("\xff\xff", 2));
  EXPECT_FALSE(LastKey("a0"));
  EXPECT_FALSE(LastKey("d"));
}

}  // namespace
}  // namespace osrc::storage
