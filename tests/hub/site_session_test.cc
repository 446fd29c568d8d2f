#include "hub/site_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/writer.h"
#include "protocol/link_options.h"
#include "storage/hlc.h"
#include "tests/support/fake_clock.h"

namespace osrc::hub {
namespace {

using State = SiteSession::State;
using Event = SiteSession::Event;

constexpr uint64_t kSchema = 0x5eed;
constexpr uint32_t kMerge = 2;
const std::string kEpoch = "epoch-2";

SiteSessionOptions Options(bool bundle = false) {
  return {.epoch = kEpoch,
          .schema_hash = kSchema,
          .merge_version = kMerge,
          .max_skew_ms = 60'000,
          .heartbeat_timeout_ms = 6000,
          .deliver_page = 100,
          .bundle = bundle};
}

protocol::Hello HelloOf(testing::FakeClock& clock, uint64_t cursor = 0,
                        const std::string& epoch = kEpoch) {
  protocol::Hello hello;
  hello.version = protocol::kProtocolVersion;
  hello.site = "MAS";
  hello.schema_hash = kSchema;
  hello.merge_version = kMerge;
  hello.log_head = 7;
  hello.hub_cursor = cursor;
  hello.clock = storage::StampOf(clock.NowMillis());
  hello.epoch = epoch;
  hello.deliver_bytes = 64 * 1024;
  return hello;
}

// The steps of an output as one line each, for readable comparisons.
std::string Render(const SiteSession::Output& out) {
  std::string text;
  for (const SiteSession::Step& step : out.steps) {
    if (auto* send = std::get_if<SiteSession::Send>(&step)) {
      text += "send " + std::string(protocol::MessageName(send->message));
      if (auto* w = std::get_if<protocol::Welcome>(&send->message)) {
        text += " acked=" + std::to_string(w->acked) + " head=" + std::to_string(w->hub_head) +
                " epoch=" + w->epoch;
      }
      if (auto* e = std::get_if<protocol::ErrorReply>(&send->message)) text += ": " + e->message;
    } else if (auto* push = std::get_if<SiteSession::ApplyPush>(&step)) {
      text += "apply push first=" + std::to_string(push->first) +
              " n=" + std::to_string(push->changes.size());
    } else if (auto* back = std::get_if<SiteSession::TakeBack>(&step)) {
      text += "take back token=" + std::to_string(back->token);
    } else if (auto* progress = std::get_if<SiteSession::RecordProgress>(&step)) {
      text += "progress cursor=" + std::to_string(progress->cursor) +
              (progress->clock_skew_ms ? " skew=" + std::to_string(*progress->clock_skew_ms) : "");
    } else {
      const auto& read = std::get<SiteSession::ReadDeliverPage>(step);
      text += "read page cursor=" + std::to_string(read.cursor) +
              " entries=" + std::to_string(read.max_entries) +
              " bytes=" + std::to_string(read.max_bytes);
    }
    text += "\n";
  }
  return text;
}

class SiteSessionTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_;
  SiteSession session_{"MAS", Options(), clock_.NowMillis()};
};

TEST_F(SiteSessionTest, HelloIsWelcomedAndAPageAskedForWhenBehind) {
  SiteSession::Output out = session_.OnHello(HelloOf(clock_, 3), clock_.NowMillis(), {5, 9});
  EXPECT_EQ(Render(out),
            "send Welcome acked=5 head=9 epoch=epoch-2\n"
            "progress cursor=3 skew=0\n"
            "read page cursor=3 entries=100 bytes=65536\n");
  EXPECT_EQ(session_.state(), State::kDelivering);
  EXPECT_FALSE(out.refused);
  const auto& welcome =
      std::get<protocol::Welcome>(std::get<SiteSession::Send>(out.steps[0]).message);
  EXPECT_EQ(welcome.hub_clock, clock_.NowMillis());
  EXPECT_EQ(welcome.max_skew_ms, 60'000u);
}

TEST_F(SiteSessionTest, HelloReportIsRecordedAndGivesWhatTheSiteHasToSend) {
  protocol::Hello hello = HelloOf(clock_, 9);
  hello.log_head = 10;
  hello.oldest_unsent = storage::StampOf(clock_.NowMillis() - 3'600'000);
  hello.link_rate = 4000;
  hello.round_trip_ms = 650;
  SiteSession::Output out = session_.OnHello(hello, clock_.NowMillis(), {4, 9});
  const auto& progress = std::get<SiteSession::RecordProgress>(out.steps[1]);
  ASSERT_TRUE(progress.report);
  EXPECT_EQ(*progress.report, (SiteReport{clock_.NowMillis(), 10, hello.oldest_unsent, 4000, 650}));
  SiteEntry entry;
  entry.acked = 4;
  UpdateProgress(entry, clock_.NowMillis(), progress.clock_skew_ms, progress.cursor,
                 progress.report);
  EXPECT_EQ(ToSend(entry), 6u);
  entry.acked = 10;  // pushes acknowledged since
  EXPECT_EQ(ToSend(entry), 0u);
  // An older report (a delayed update) does not replace a newer one.
  UpdateProgress(entry, 0, std::nullopt, 0, SiteReport{1, 99, 0, 0, 0});
  EXPECT_EQ(entry.report.log_head, 10u);
}

TEST_F(SiteSessionTest, HelloInStepAsksForNoPage) {
  SiteSession::Output out = session_.OnHello(HelloOf(clock_, 9), clock_.NowMillis(), {5, 9});
  EXPECT_EQ(Render(out), "send Welcome acked=5 head=9 epoch=epoch-2\nprogress cursor=9 skew=0\n");
  EXPECT_EQ(session_.state(), State::kReady);
}

TEST_F(SiteSessionTest, CursorOfAnotherEpochStartsFromZero) {
  SiteSession::Output out =
      session_.OnHello(HelloOf(clock_, 8, "epoch-1"), clock_.NowMillis(), {0, 4});
  EXPECT_EQ(session_.cursor(), 0u);
  EXPECT_EQ(Render(out),
            "send Welcome acked=0 head=4 epoch=epoch-2\n"
            "progress cursor=0 skew=0\n"
            "read page cursor=0 entries=100 bytes=65536\n");
}

TEST_F(SiteSessionTest, RefusesHelloOfAnotherVersionSiteSchemaOrMergeVersion) {
  struct Case {
    void (*mutate)(protocol::Hello&);
    ErrorCode code;
    std::string message;
  };
  const Case cases[] = {
      {[](protocol::Hello& h) { h.version = 99; }, ErrorCode::kVersion,
       "protocol version 99 not supported (hub speaks 1 to 3)"},
      {[](protocol::Hello& h) { h.site = "ANT"; }, ErrorCode::kForbidden,
       "hello names site ANT but the key is enrolled as MAS"},
      {[](protocol::Hello& h) { h.schema_hash = 1; }, ErrorCode::kSchemaMismatch,
       "schema differs from the hub's: upgrade osrc-node"},
      {[](protocol::Hello& h) { h.merge_version = 1; }, ErrorCode::kVersion,
       "merge version 1 differs from the hub's (2): upgrade osrc-node"},
      {[](protocol::Hello& h) { h.merge_version = 3; }, ErrorCode::kVersion,
       "merge version 3 differs from the hub's (2): upgrade osrc-hub"},
  };
  for (const Case& c : cases) {
    SiteSession session("MAS", Options(), clock_.NowMillis());
    protocol::Hello hello = HelloOf(clock_);
    c.mutate(hello);
    SiteSession::Output out = session.OnHello(hello, clock_.NowMillis(), {0, 4});
    ASSERT_TRUE(out.refused) << c.message;
    EXPECT_EQ(out.refused->code, c.code);
    EXPECT_EQ(out.refused->message, c.message);
    EXPECT_EQ(Render(out), "send Error: " + c.message + "\n");
    EXPECT_TRUE(session.closed());
  }
}

TEST_F(SiteSessionTest, ReportsClockSkewBeyondTheLimit) {
  protocol::Hello hello = HelloOf(clock_);
  hello.clock = storage::StampOf(clock_.NowMillis() + 90'000);
  SiteSession::Output out = session_.OnHello(hello, clock_.NowMillis(), {0, 0});
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_EQ(out.warnings[0], "site MAS: clock 90000 ms ahead of the hub's");
  EXPECT_EQ(Render(out),
            "send Welcome acked=0 head=0 epoch=epoch-2\nprogress cursor=0 skew=90000\n");

  SiteSession near("MAS", Options(), clock_.NowMillis());
  hello.clock = storage::StampOf(clock_.NowMillis() - 30'000);
  EXPECT_TRUE(near.OnHello(hello, clock_.NowMillis(), {0, 0}).warnings.empty());
}

TEST_F(SiteSessionTest, WithoutAWindowOnePageIsOutstandingUntilItsCursorAck) {
  session_.OnHello(HelloOf(clock_, 0), clock_.NowMillis(), {0, 500});
  ASSERT_EQ(session_.state(), State::kDelivering);
  EXPECT_EQ(Render(session_.OnPageSent(100, 9000, 600)), "");
  // Ticks while the page is out ask for no other.
  clock_.Advance(500);
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 600)), "");
  clock_.Advance(500);
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 600)), "");
  // The ack asks for the next page at once.
  SiteSession::Output out = session_.OnCursorAck({100, 0}, clock_.NowMillis(), 600);
  EXPECT_EQ(Render(out), "progress cursor=100\nread page cursor=100 entries=100 bytes=65536\n");
  session_.OnPageSent(600, 9000, 600);
  // Caught up: no page; a later write at the hub makes one due at the next tick.
  session_.OnCursorAck({600, 0}, clock_.NowMillis(), 600);
  EXPECT_EQ(session_.state(), State::kReady);
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 600)), "");
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 601)),
            "read page cursor=600 entries=100 bytes=65536\n");
}

TEST_F(SiteSessionTest, PagesGoInTheSitesWindow) {
  protocol::Hello hello = HelloOf(clock_, 0);
  hello.deliver_bytes = 1000;
  hello.deliver_window = 2500;
  EXPECT_EQ(Render(session_.OnHello(hello, clock_.NowMillis(), {0, 1000})),
            "send Welcome acked=0 head=1000 epoch=epoch-2\n"
            "progress cursor=0 skew=0\n"
            "read page cursor=0 entries=100 bytes=1000\n");
  // One page asked for at a time: the next starts where it ends.
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 1000)), "");
  EXPECT_EQ(Render(session_.OnPageSent(100, 1000, 1000)),
            "read page cursor=100 entries=100 bytes=1000\n");
  // 2,000 bytes unacknowledged and a page of 1,000 more would pass 2,500.
  EXPECT_EQ(Render(session_.OnPageSent(200, 1000, 1000)), "");
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 1000)), "");
  EXPECT_EQ(Render(session_.OnCursorAck({100, 0}, clock_.NowMillis(), 1000)),
            "progress cursor=100\nread page cursor=200 entries=100 bytes=1000\n");
  // A smaller page leaves room for one more.
  EXPECT_EQ(Render(session_.OnPageSent(300, 400, 1000)),
            "read page cursor=300 entries=100 bytes=1000\n");
  EXPECT_EQ(Render(session_.OnPageSent(400, 1000, 1000)), "");
  // A larger window from the site lets more go.
  EXPECT_EQ(Render(session_.OnCursorAck({200, 0, 3500}, clock_.NowMillis(), 1000)),
            "progress cursor=200\nread page cursor=400 entries=100 bytes=1000\n");
  EXPECT_EQ(session_.deliver_window(), 3500u);
  // Acknowledged through the last page sent: ready again once it is sent and acknowledged.
  session_.OnPageSent(1000, 1000, 1000);
  EXPECT_EQ(session_.state(), State::kDelivering);
  EXPECT_EQ(Render(session_.OnCursorAck({1000, 0}, clock_.NowMillis(), 1000)),
            "progress cursor=1000\n");
  EXPECT_EQ(session_.state(), State::kReady);
}

TEST_F(SiteSessionTest, PageSizeFollowsTheSitesDeliverBytes) {
  protocol::Hello hello = HelloOf(clock_, 0);
  hello.deliver_bytes = 2048;
  session_.OnHello(hello, clock_.NowMillis(), {0, 50});
  EXPECT_EQ(session_.deliver_bytes(), 2048u);
  session_.OnPageSent(10, 2000, 50);
  EXPECT_EQ(Render(session_.OnCursorAck({10, 16384}, clock_.NowMillis(), 50)),
            "progress cursor=10\nread page cursor=10 entries=100 bytes=16384\n");
  session_.OnPageSent(20, 2000, 50);
  // 0: the site measured nothing new; the last limit stays.
  EXPECT_EQ(Render(session_.OnCursorAck({20, 0}, clock_.NowMillis(), 50)),
            "progress cursor=20\nread page cursor=20 entries=100 bytes=16384\n");
}

TEST_F(SiteSessionTest, CursorNeverMovesBack) {
  session_.OnHello(HelloOf(clock_, 40), clock_.NowMillis(), {0, 40});
  EXPECT_EQ(Render(session_.OnCursorAck({30, 0}, clock_.NowMillis(), 40)), "progress cursor=40\n");
  EXPECT_EQ(session_.cursor(), 40u);
}

TEST_F(SiteSessionTest, KeepAliveHelloLeavesThePagesSentInFlight) {
  session_.OnHello(HelloOf(clock_, 0), clock_.NowMillis(), {0, 10});
  session_.OnPageSent(10, 500, 10);
  SiteSession::Output out = session_.OnHello(HelloOf(clock_, 4), clock_.NowMillis(), {0, 10});
  EXPECT_EQ(Render(out),
            "send Welcome acked=0 head=10 epoch=epoch-2\n"
            "progress cursor=4 skew=0\n");
  EXPECT_EQ(session_.state(), State::kDelivering);
  session_.OnCursorAck({10, 0}, clock_.NowMillis(), 10);
  EXPECT_EQ(session_.state(), State::kReady);
  // A keep-alive sent before the last page arrived does not take the cursor back.
  EXPECT_EQ(Render(session_.OnHello(HelloOf(clock_, 4), clock_.NowMillis(), {0, 10})),
            "send Welcome acked=0 head=10 epoch=epoch-2\n"
            "progress cursor=10 skew=0\n");
}

TEST_F(SiteSessionTest, PushesAndHandBacksBecomeStoreActions) {
  std::vector<protocol::Change> changes(3);
  // No Hello needed: the store checks a push against what it holds.
  EXPECT_EQ(Render(session_.OnPush(4, changes, clock_.NowMillis())), "apply push first=4 n=3\n");
  EXPECT_EQ(session_.state(), State::kAwaitHello);
  EXPECT_EQ(Render(session_.OnReoffer(17, changes, clock_.NowMillis())), "take back token=17\n");
}

TEST_F(SiteSessionTest, ExpiresAfterThreeHeartbeatTimeoutsWithoutAMessage) {
  session_.OnHello(HelloOf(clock_, 0), clock_.NowMillis(), {0, 0});
  clock_.Advance(18'000);
  session_.OnTick(clock_.NowMillis(), 0);
  EXPECT_FALSE(session_.closed());
  session_.OnPush(1, {}, clock_.NowMillis());  // traffic restarts the clock
  clock_.Advance(18'000);
  session_.OnTick(clock_.NowMillis(), 0);
  EXPECT_FALSE(session_.closed());
  clock_.Advance(1);
  EXPECT_EQ(Render(session_.OnTick(clock_.NowMillis(), 0)), "");
  EXPECT_TRUE(session_.closed());
  // A closed session takes nothing more.
  EXPECT_EQ(Render(session_.OnPush(2, {}, clock_.NowMillis())), "");
}

TEST_F(SiteSessionTest, CursorAckBeforeHelloIsRefusedAndDropped) {
  SiteSession::Output out = session_.OnCursorAck({5, 0}, clock_.NowMillis(), 10);
  EXPECT_EQ(Render(out), "send Error: unexpected cursor ack in session state awaiting hello\n");
  ASSERT_TRUE(out.refused);
  EXPECT_EQ(out.refused->code, ErrorCode::kBadMessage);
  EXPECT_EQ(session_.state(), State::kAwaitHello);
  EXPECT_EQ(session_.cursor(), 0u);
}

TEST_F(SiteSessionTest, ByeClosesALiveSessionAtOnceWithNothingSent) {
  session_.OnHello(HelloOf(clock_, 0), clock_.NowMillis(), {0, 0});
  SiteSession::Output out = session_.OnBye(clock_.NowMillis());
  EXPECT_EQ(Render(out), "");
  EXPECT_FALSE(out.refused);
  EXPECT_TRUE(session_.closed());
}

TEST(SiteSessionTableTest, RejectsPairsTheTableDoesNotAllow) {
  std::string table;
  for (State state : {State::kAwaitHello, State::kReady, State::kDelivering, State::kClosed}) {
    table += std::string(SiteSession::StateName(state)) + ":";
    for (Event event :
         {Event::kHello, Event::kPush, Event::kReoffer, Event::kCursorAck, Event::kPageDue,
          Event::kPageSent, Event::kTick, Event::kEnd, Event::kRefuse, Event::kExpire}) {
      std::optional<State> next = SiteSession::Transition(state, event);
      table += " " + (next ? std::string(SiteSession::StateName(*next)) : std::string("-"));
    }
    table += "\n";
  }
  EXPECT_EQ(table,
            "awaiting hello: ready awaiting hello awaiting hello - - - awaiting hello - closed "
            "closed\n"
            "ready: ready ready ready ready delivering - ready closed closed closed\n"
            "delivering: delivering delivering delivering delivering delivering delivering "
            "delivering closed closed closed\n"
            "closed: - - - - - - - - - -\n");
}

TEST(SiteSessionBundleTest, AnsweredAtTheEndWithOneUnboundedPage) {
  testing::FakeClock clock;
  SiteSession session("MAS", Options(/*bundle=*/true), clock.NowMillis());
  protocol::Hello hello = HelloOf(clock, 12);
  hello.clock = storage::StampOf(clock.NowMillis() - 86'400'000);  // exported a day ago
  SiteSession::Output out = session.OnHello(hello, clock.NowMillis(), {});
  EXPECT_EQ(Render(out), "");
  EXPECT_TRUE(out.warnings.empty());
  EXPECT_EQ(Render(session.OnPush(1, std::vector<protocol::Change>(2), clock.NowMillis())),
            "apply push first=1 n=2\n");
  out = session.OnEnd(clock.NowMillis(), {2, 30});
  EXPECT_EQ(Render(out),
            "send Welcome acked=2 head=30 epoch=epoch-2\n"
            "read page cursor=12 entries=10000000 bytes=0\n"
            "progress cursor=12\n");
  EXPECT_TRUE(session.closed());
}

TEST(SiteSessionBundleTest, RefusalIsReturnedNotSent) {
  testing::FakeClock clock;
  SiteSession session("MAS", Options(/*bundle=*/true), clock.NowMillis());
  protocol::Hello hello = HelloOf(clock);
  hello.schema_hash = 1;
  SiteSession::Output out = session.OnHello(hello, clock.NowMillis(), {});
  ASSERT_TRUE(out.refused);
  EXPECT_EQ(out.refused->code, ErrorCode::kSchemaMismatch);
  EXPECT_EQ(Render(out), "");
  // A bundle without an accepted Hello has no end.
  SiteSession headless("MAS", Options(/*bundle=*/true), clock.NowMillis());
  EXPECT_TRUE(headless.OnEnd(clock.NowMillis(), {}).refused);
}

}  // namespace
}  // namespace osrc::hub
