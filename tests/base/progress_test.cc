// Tests of the progress display (base/progress.h) on a fake clock: nothing for short work, a line
// rewritten in place with rate and time left once it lasts, cleared at the end, and nothing at
// all when disabled.
#include "base/progress.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/fake_clock.h"

namespace osrc {
namespace {

class ProgressTest : public ::testing::Test {
 protected:
  std::unique_ptr<Progress> Make(uint64_t total, bool enabled = true) {
    return std::make_unique<Progress>(
        "import", "records", total, [this] { return clock_.NowMillis(); }, out_, enabled);
  }
  testing::FakeClock clock_;
  std::ostringstream out_;
};

TEST_F(ProgressTest, ShowsNothingForWorkUnderASecond) {
  auto progress = Make(1000);
  clock_.Advance(999);
  progress->Update(900);
  progress->Finish();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ProgressTest, DrawsRateAndTimeLeftInPlaceThenClearsTheLine) {
  auto progress = Make(10000);
  clock_.Advance(1000);
  progress->Update(2000);
  EXPECT_EQ(out_.str(), "\rimport: 2000 of 10000 records, 2000/s, 4 s left");
  // Not redrawn more often than every 200 ms.
  clock_.Advance(100);
  progress->Update(2200);
  EXPECT_EQ(out_.str(), "\rimport: 2000 of 10000 records, 2000/s, 4 s left");
  clock_.Advance(900);
  progress->Update(9000);
  std::string second = "\rimport: 9000 of 10000 records, 4500/s, 1 s left";
  EXPECT_EQ(out_.str(), "\rimport: 2000 of 10000 records, 2000/s, 4 s left" + second);
  out_.str("");
  progress->Finish();
  std::string blank(second.size() - 1, ' ');
  EXPECT_EQ(out_.str(), "\r" + blank + "\r");
  out_.str("");
  progress->Finish();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ProgressTest, PadsAShorterLineAndLeavesOutTimeLeftWithoutATotal) {
  auto progress = Make(0);
  clock_.Advance(2000);
  progress->Update(123456);
  clock_.Advance(1000);
  progress->Update(5);
  std::string first = "\rimport: 123456 records, 61728/s";
  std::string second = "\rimport: 5 records, 1/s";
  EXPECT_EQ(out_.str(), first + second + std::string(first.size() - second.size(), ' '));
}

TEST_F(ProgressTest, PrintsNothingWhenDisabled) {
  auto progress = Make(10, /*enabled=*/false);
  clock_.Advance(60'000);
  progress->Update(5);
  progress->Finish();
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace osrc
