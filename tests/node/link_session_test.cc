// LinkSession, the site's protocol core, on a fake clock: states, deadlines, backoff, windows,
// deliveries, hand-back, and progress through a simulated link that drops every connection.
#include "node/link_session.h"

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <queue>
#include <random>

#include "storage/merge.h"

namespace osrc::node {
namespace {

using State = LinkSession::State;

// The site's store in memory: a change log of `head` entries of `entry_bytes` each.
class MemoryStore final : public LinkStore {
 public:
  MemoryStore(uint64_t head, size_t entry_bytes) : head_(head), entry_bytes_(entry_bytes) {}

  Position Read() override {
    Position position{head_, cursor_, acked_, epoch_};
    position.clock_trusted = clock_trusted;
    return position;
  }
  uint64_t LogHead() override { return head_; }
  std::vector<std::string> ReadLog(uint64_t first, uint64_t last, size_t max_bytes) override {
    ++log_reads;
    std::vector<std::string> changes;
    size_t bytes = 0;
    for (uint64_t seq = first; seq <= last && bytes < max_bytes; ++seq) {
      // Hex of random bytes: compresses about twofold, as real changes do.
      std::mt19937_64 random(seq);
      std::string change;
      while (change.size() < entry_bytes_) change += "0123456789abcdef"[random() % 16];
      bytes += change.size();
      changes.push_back(std::move(change));
    }
    return changes;
  }
  Status ApplyWelcome(const protocol::Welcome& welcome, bool, uint64_t, uint64_t sent_through,
                      Welcomed* out) override {
    welcomed_sent_through = sent_through;
    if (welcome.acked > head_) return {ErrorCode::kCorruption, "hub holds more than the log"};
    if (epoch_ != welcome.epoch) {
      if (!epoch_.empty()) owed_ = kept_;
      epoch_ = welcome.epoch;
      cursor_ = 0;
    }
    acked_ = welcome.acked;
    *out = {head_, acked_, cursor_, owed_ > 0};
    return {};
  }
  Status ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) override {
    delivered_ += deliver.changes.size();
    kept_ += deliver.changes.size();
    cursor_ = std::max(cursor_, deliver.last);
    *cursor = cursor_;
    return {};
  }
  void SaveAcked(uint64_t acked) override { acked_ = acked; }
  std::optional<protocol::Reoffer> NextReoffer(size_t) override {
    if (owed_ == 0) return std::nullopt;
    protocol::Reoffer reoffer;
    reoffer.token = owed_;
    reoffer.changes.assign(owed_, "hub change");
    reoffer.seals.assign(owed_, std::string(16, 's'));
    return reoffer;
  }
  void DropReoffered(uint64_t token) override { owed_ = token >= owed_ ? 0 : owed_ - token; }
  void Report(const std::string& state, const std::string& failure, uint64_t) override {
    reports.push_back(state);
    if (!failure.empty()) last_failure = failure;
  }

  void Write(uint64_t changes) { head_ += changes; }
  uint64_t acked() const { return acked_; }
  uint64_t cursor() const { return cursor_; }
  uint64_t owed() const { return owed_; }
  std::vector<std::string> reports;
  std::string last_failure;
  bool clock_trusted = false;
  uint64_t welcomed_sent_through = 0;  // as the last Welcome was told
  int log_reads = 0;

 private:
  uint64_t head_;
  size_t entry_bytes_;
  uint64_t acked_ = 0;
  uint64_t cursor_ = 0;
  uint64_t kept_ = 0;
  uint64_t owed_ = 0;
  uint64_t delivered_ = 0;
  std::string epoch_;
};

protocol::LinkOptions SessionOptions() {
  protocol::LinkOptions options;
  options.heartbeat_ms = 2000;
  options.heartbeat_timeout_ms = 6000;
  options.request_timeout_ms = 30000;
  options.reconnect_min_ms = 250;
  options.reconnect_max_ms = 60000;
  return options;
}

// The frames of `effects`; pushes are read against `history`, what their connection carried.
std::vector<protocol::Message> Decoded(const LinkEffects& effects,
                                       protocol::RunHistory* history = nullptr) {
  std::vector<protocol::Message> messages;
  for (const std::string& frame : effects.frames) {
    protocol::Message message;
    EXPECT_TRUE(
        protocol::DecodeMessage({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}, {},
                                &message, history)
            .ok());
    messages.push_back(std::move(message));
  }
  return messages;
}

std::string Names(const LinkEffects& effects, protocol::RunHistory* history = nullptr) {
  std::string names;
  for (const protocol::Message& message : Decoded(effects, history)) {
    if (!names.empty()) names += " ";
    names += protocol::MessageName(message);
  }
  return names;
}

struct Fixture {
  explicit Fixture(uint64_t head = 10, bool reconnect = true)
      : store(head, 120), session(options, {"MAS", 42, "tcp://hub"}, store, reconnect, 7) {}
  // Connects and answers the Hello with a Welcome; returns what the session sent then.
  LinkEffects Connect(uint64_t hub_acked = 0, uint64_t hub_head = 0, std::string epoch = "e1") {
    hub = {};
    EXPECT_TRUE(session.Start(now).open);
    session.OnConnected(now);
    LinkEffects hello = session.OnSecured(now);
    EXPECT_EQ(Names(hello), "Hello");
    now += 100;
    return session.OnMessage(protocol::Welcome{hub_acked, hub_head, now, epoch, 60000}, 200, now);
  }
  // Connects a site whose clock its last Welcome found in step and whose hub acknowledged
  // `acked`; returns what the session sent once the connection was secured.
  LinkEffects SecureWithTrustedClock(uint64_t acked) {
    store.SaveAcked(acked);
    store.clock_trusted = true;
    session.Start(now);
    session.OnConnected(now);
    return session.OnSecured(now);
  }
  // The session's frames as the hub reads them on the connection Connect() made.
  std::vector<protocol::Message> Read(const LinkEffects& effects) { return Decoded(effects, &hub); }
  protocol::LinkOptions options = SessionOptions();
  MemoryStore store;
  LinkSession session;
  protocol::RunHistory hub;  // what the connection carried to the hub
  uint64_t now = 1'000'000;
};

TEST(LinkSession, HelloWaitsForTheSecureConnectionThenPushesFromTheHubsAcknowledgement) {
  Fixture f(10);
  EXPECT_TRUE(f.session.Start(f.now).open);
  EXPECT_EQ(f.session.state(), State::kConnecting);
  EXPECT_TRUE(f.session.OnConnected(f.now).frames.empty());
  LinkEffects hello = f.session.OnSecured(f.now);
  auto sent = Decoded(hello);
  ASSERT_EQ(sent.size(), 1u);
  const auto& h = std::get<protocol::Hello>(sent[0]);
  EXPECT_EQ(h.site, "MAS");
  EXPECT_EQ(h.schema_hash, 42u);
  EXPECT_EQ(h.log_head, 10u);
  EXPECT_EQ(h.merge_version, storage::kMergeVersion);
  EXPECT_EQ(f.session.state(), State::kHelloSent);

  LinkEffects pushes = f.session.OnMessage(protocol::Welcome{4, 0, f.now, "e1", 60000}, 100, f.now);
  EXPECT_EQ(f.session.state(), State::kSyncing);
  auto messages = f.Read(pushes);
  ASSERT_EQ(messages.size(), 1u);
  const auto& push = std::get<protocol::Push>(messages[0]);
  EXPECT_EQ(push.first, 5u);
  EXPECT_EQ(push.changes.size(), 6u);

  f.session.OnMessage(protocol::Ack{10, false}, 20, f.now);
  EXPECT_EQ(f.session.state(), State::kInStep);
  EXPECT_TRUE(f.session.reached_in_step());
  EXPECT_EQ(f.store.acked(), 10u);
  EXPECT_EQ(f.store.reports.back(), "in step");
}

// A site whose clock the last Welcome found in step sends its first pushes with the Hello, from
// the sequence the hub last acknowledged: a Welcome that agrees leaves them in flight, and is told
// how far they went so the clock correction leaves them alone.
TEST(LinkSession, TheFirstPushesLeaveWithTheHelloWhenTheClockIsTrusted) {
  Fixture f(5000);
  auto sent = f.Read(f.SecureWithTrustedClock(1000));
  ASSERT_EQ(sent.size(), 1u + static_cast<size_t>(f.session.tuning().window()));
  ASSERT_TRUE(std::holds_alternative<protocol::Hello>(sent[0]));
  EXPECT_EQ(std::get<protocol::Push>(sent[1]).first, 1001u);
  uint64_t last = 0;
  for (size_t i = 1; i < sent.size(); ++i) {
    const auto& push = std::get<protocol::Push>(sent[i]);
    EXPECT_EQ(push.first, last == 0 ? 1001u : last + 1);
    last = push.first + push.changes.size() - 1;
  }
  f.now += 600;
  LinkEffects welcomed =
      f.session.OnMessage(protocol::Welcome{1000, 0, f.now, "", 60000}, 100, f.now);
  EXPECT_TRUE(welcomed.frames.empty()) << "the window is still full of the early pushes";
  EXPECT_EQ(f.store.welcomed_sent_through, last);
  LinkEffects acked = f.session.OnMessage(protocol::Ack{last, false}, 20, f.now);
  auto next = f.Read(acked);
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(std::get<protocol::Push>(next[0]).first, last + 1) << "nothing sent twice";
}

// A Welcome that finds the hub holding less (a restored hub) restarts pushing where the hub
// stands; the hub's gap answers to the early pushes resend nothing more.
TEST(LinkSession, AWelcomeBehindTheEarlyPushesRestartsThemOnce) {
  Fixture f(5000);
  f.Read(f.SecureWithTrustedClock(1000));  // the hub reads them, then answers with gaps
  auto resent =
      f.Read(f.session.OnMessage(protocol::Welcome{400, 0, f.now, "", 60000}, 100, f.now));
  ASSERT_FALSE(resent.empty());
  EXPECT_EQ(std::get<protocol::Push>(resent[0]).first, 401u);
  EXPECT_TRUE(f.session.OnMessage(protocol::Ack{400, true}, 20, f.now).frames.empty());
}

// Without a trusted clock the Hello goes alone, as the Welcome may re-stamp what is pending.
TEST(LinkSession, AnUntrustedClockWaitsForTheWelcome) {
  Fixture f(5000);
  f.session.Start(f.now);
  f.session.OnConnected(f.now);
  EXPECT_EQ(Names(f.session.OnSecured(f.now)), "Hello");
}

// Given a sender, each frame leaves as soon as it is made, in order: the hub works on the first
// push while the next is read and encoded.
TEST(LinkSession, WithASenderEachFrameLeavesBeforeTheNextIsRead) {
  Fixture f(5000);
  std::vector<std::string> sent;
  std::vector<int> reads_when_sent;
  f.session.SendFramesAt([&](const std::string& frame) {
    sent.push_back(frame);
    reads_when_sent.push_back(f.store.log_reads);
  });
  EXPECT_TRUE(f.session.Start(f.now).open);
  f.session.OnConnected(f.now);
  LinkEffects secured = f.session.OnSecured(f.now);
  EXPECT_TRUE(secured.frames.empty());
  ASSERT_EQ(sent.size(), 1u) << "the Hello";
  LinkEffects welcomed =
      f.session.OnMessage(protocol::Welcome{1000, 0, f.now, "e1", 60000}, 100, f.now);
  EXPECT_TRUE(welcomed.frames.empty());
  LinkEffects all;
  all.frames = sent;
  std::vector<protocol::Message> messages = f.Read(all);
  ASSERT_EQ(messages.size(), 1u + static_cast<size_t>(f.session.tuning().window()));
  EXPECT_TRUE(std::holds_alternative<protocol::Hello>(messages[0]));
  EXPECT_EQ(reads_when_sent[0], 0);
  for (size_t i = 1; i < messages.size(); ++i) {
    EXPECT_EQ(reads_when_sent[i], static_cast<int>(i))
        << "push " << i << " left before the next read";
    EXPECT_TRUE(std::holds_alternative<protocol::Push>(messages[i]));
  }
  EXPECT_EQ(std::get<protocol::Push>(messages[1]).first, 1001u);
}

TEST(LinkSession, AMessageTheTableDoesNotAllowEndsTheConnection) {
  Fixture f(10);
  f.session.Start(f.now);
  f.session.OnSecured(f.now);
  LinkEffects effects = f.session.OnMessage(protocol::Ack{3, false}, 20, f.now);
  EXPECT_TRUE(effects.close);
  EXPECT_EQ(f.session.state(), State::kBackoff);
  EXPECT_EQ(f.session.failure().code(), ErrorCode::kBadMessage);
  EXPECT_NE(f.session.failure().what().find("before its Welcome"), std::string::npos);
}

TEST(LinkSession, GapGoesBackToTheHubsHighWaterMarkOnce) {
  Fixture f(5000);
  LinkEffects first = f.Connect();
  auto pushes = f.Read(first);
  ASSERT_EQ(pushes.size(), 4u) << "a window of four pushes";
  uint64_t third = std::get<protocol::Push>(pushes[2]).first;
  // The push at the front is on its way: a gap at its start needs no resend.
  EXPECT_TRUE(f.session.OnMessage(protocol::Ack{0, true}, 20, f.now).frames.empty());
  // The hub holds the first two pushes but not the third: resend from there, once.
  auto resent = f.Read(f.session.OnMessage(protocol::Ack{third - 1, true}, 20, f.now));
  ASSERT_FALSE(resent.empty());
  EXPECT_EQ(std::get<protocol::Push>(resent[0]).first, third);
  EXPECT_TRUE(f.session.OnMessage(protocol::Ack{third - 1, true}, 20, f.now).frames.empty());
  EXPECT_EQ(f.store.acked(), third - 1);
}

TEST(LinkSession, DeadlinesEndConnectionsThatStall) {
  Fixture f(10);
  f.session.Start(f.now);
  f.now += f.options.heartbeat_timeout_ms;
  EXPECT_FALSE(f.session.OnTick(f.now).close);
  f.now += 1;
  EXPECT_TRUE(f.session.OnTick(f.now).close);
  EXPECT_EQ(f.session.failure().code(), ErrorCode::kTimeout);
  EXPECT_NE(f.session.failure().what().find("no answer from the hub"), std::string::npos);

  // Once TCP is up, the secure handshake gets the request timeout (2G set-up).
  Fixture slow(10);
  slow.session.Start(slow.now);
  slow.session.OnConnected(slow.now);
  slow.now += slow.options.request_timeout_ms;
  EXPECT_FALSE(slow.session.OnTick(slow.now).close);
  slow.now += 1;
  EXPECT_TRUE(slow.session.OnTick(slow.now).close);
  EXPECT_NE(slow.session.failure().what().find("no secure connection"), std::string::npos);

  // A push unacknowledged for the request timeout.
  Fixture pushing(10);
  pushing.Connect();
  pushing.now += pushing.options.request_timeout_ms + 1;
  EXPECT_TRUE(pushing.session.OnTick(pushing.now).close);
  EXPECT_NE(pushing.session.failure().what().find("push unacknowledged"), std::string::npos);
}

TEST(LinkSession, InStepItSendsOneKeepAliveHelloAtATime) {
  Fixture f(0);
  f.Connect();
  ASSERT_EQ(f.session.state(), State::kInStep);
  f.now += f.options.heartbeat_ms + 1;
  EXPECT_EQ(Names(f.session.OnTick(f.now)), "Hello");
  f.now += 500;
  EXPECT_TRUE(f.session.OnTick(f.now).frames.empty()) << "a second Hello before the Welcome";
  f.session.OnMessage(protocol::Welcome{0, 0, f.now, "e1", 60000}, 100, f.now);
  EXPECT_EQ(f.session.state(), State::kInStep);
}

TEST(LinkSession, StopSaysByeToAHubThatWelcomedTheSiteOnly) {
  Fixture welcomed(0);
  welcomed.Connect();
  LinkEffects stop = welcomed.session.Stop(welcomed.now);
  EXPECT_TRUE(stop.close);
  protocol::Message bye;
  ASSERT_TRUE(
      protocol::DecodeMessage(
          {reinterpret_cast<const uint8_t*>(stop.farewell.data()), stop.farewell.size()}, {}, &bye)
          .ok());
  EXPECT_TRUE(std::holds_alternative<protocol::Bye>(bye));
  EXPECT_EQ(welcomed.session.state(), State::kStopped);

  Fixture unanswered(0);
  unanswered.session.Start(unanswered.now);
  unanswered.session.OnConnected(unanswered.now);
  unanswered.session.OnSecured(unanswered.now);
  EXPECT_TRUE(unanswered.session.Stop(unanswered.now).farewell.empty());
}

TEST(LinkSession, NewLocalChangesLeaveInStepAndArePushed) {
  Fixture f(0);
  f.Connect();
  ASSERT_EQ(f.session.state(), State::kInStep);
  f.store.Write(3);
  f.now += 300;  // the log head is read every 50 ms
  LinkEffects effects = f.session.OnTick(f.now);
  EXPECT_EQ(Names(effects, &f.hub), "Push");
  EXPECT_EQ(f.session.state(), State::kSyncing);
  EXPECT_EQ(f.store.reports.back(), "syncing");
}

TEST(LinkSession, ChangesTheStoresOwnerSaysItWroteArePushedAtOnce) {
  Fixture f(0);
  f.Connect();
  f.store.Write(2);
  f.now += 1;  // a tick this soon does not read the log head again
  EXPECT_EQ(Names(f.session.OnTick(f.now), &f.hub), "");
  f.session.NoteLogGrew();
  LinkEffects effects = f.session.OnTick(f.now);
  EXPECT_EQ(Names(effects, &f.hub), "Push");
  EXPECT_EQ(f.session.state(), State::kSyncing);
}

TEST(LinkSession, DeliveriesAreAskedForOneAtATimeAndAcknowledged) {
  Fixture f(0);
  LinkEffects welcome = f.Connect(0, 5);
  EXPECT_EQ(f.session.state(), State::kSyncing) << "hub changes still to come";
  protocol::Deliver page;
  page.first = 1;
  page.last = 3;
  page.hub_head = 5;
  page.seqs = {1, 2, 3};
  page.changes = {"a", "b", "c"};
  LinkEffects ack = f.session.OnMessage(page, 100, f.now);
  auto sent = Decoded(ack);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<protocol::CursorAck>(sent[0]).cursor, 3u);
  EXPECT_GT(std::get<protocol::CursorAck>(sent[0]).deliver_bytes, 0u);
  page.first = 4;
  page.last = 5;
  page.seqs = {4, 5};
  page.changes = {"d", "e"};
  f.session.OnMessage(page, 100, f.now);
  EXPECT_EQ(f.store.cursor(), 5u);
  EXPECT_EQ(f.session.state(), State::kInStep);
}

TEST(LinkSession, APageThatSkipsEntriesEndsTheConnectionAndTheCursorStays) {
  Fixture f(0);
  f.Connect(0, 5);
  protocol::Deliver page{3, 5, 5, {3, 4, 5}, {"c", "d", "e"}, {}};
  LinkEffects down = f.session.OnMessage(page, 100, f.now);
  EXPECT_TRUE(down.close);
  EXPECT_EQ(f.session.state(), State::kBackoff);
  EXPECT_EQ(f.session.failure().code(), ErrorCode::kBadMessage);
  EXPECT_NE(f.session.failure().ToString().find(
                "hub delivered from sequence 3 but this site has applied only up to 0"),
            std::string::npos)
      << f.session.failure().ToString();
  EXPECT_EQ(f.store.cursor(), 0u);
}

TEST(LinkSession, ANewHubEpochHandsBackTheHubsChangesBeforeInStep) {
  Fixture f(0);
  f.Connect(0, 2, "e1");
  protocol::Deliver page{1, 2, 2, {1, 2}, {"a", "b"}, {}};
  f.session.OnMessage(page, 100, f.now);
  ASSERT_EQ(f.session.state(), State::kInStep);
  f.session.OnFailure({ErrorCode::kDisconnected, "link lost"}, f.now);
  f.now = f.session.retry_at();
  EXPECT_TRUE(f.session.OnTick(f.now).open);
  f.session.OnSecured(f.now);
  LinkEffects effects =
      f.session.OnMessage(protocol::Welcome{0, 0, f.now, "e2", 60000}, 100, f.now);
  auto sent = Decoded(effects);
  ASSERT_EQ(sent.size(), 1u);
  const auto& reoffer = std::get<protocol::Reoffer>(sent[0]);
  EXPECT_EQ(reoffer.changes.size(), 2u);
  EXPECT_EQ(f.session.state(), State::kSyncing) << "in step with changes still owed";
  f.session.OnMessage(protocol::ReofferAck{reoffer.token, 2}, 20, f.now);
  EXPECT_EQ(f.store.owed(), 0u);
  EXPECT_EQ(f.session.state(), State::kSyncing) << "the taken-back changes come back first";
  f.session.OnMessage(protocol::Deliver{1, 2, 2, {1, 2}, {"a", "b"}, {}}, 100, f.now);
  EXPECT_EQ(f.session.state(), State::kInStep);
}

TEST(LinkSession, BackoffDoublesWithJitterAndProgressResetsIt) {
  Fixture f(0);
  f.session.Start(f.now);
  std::vector<uint64_t> waits;
  for (int i = 0; i < 6; ++i) {
    f.session.OnFailure({ErrorCode::kDisconnected, "link lost"}, f.now);
    ASSERT_EQ(f.session.state(), State::kBackoff);
    waits.push_back(f.session.retry_at() - f.now);
    EXPECT_FALSE(f.session.OnTick(f.session.retry_at() - 1).open);
    f.now = f.session.retry_at();
    EXPECT_TRUE(f.session.OnTick(f.now).open);
  }
  uint64_t backoff = f.options.reconnect_min_ms;
  for (uint64_t wait : waits) {
    EXPECT_GE(wait, backoff / 2);
    EXPECT_LE(wait, backoff);
    backoff *= 2;
  }
  // A connection that got anything acknowledged retries soon again.
  f.store.Write(5);
  f.session.OnSecured(f.now);
  f.session.OnMessage(protocol::Welcome{0, 0, f.now, "e1", 60000}, 100, f.now);
  f.session.OnMessage(protocol::Ack{2, false}, 20, f.now);
  f.session.OnFailure({ErrorCode::kDisconnected, "link lost"}, f.now);
  EXPECT_LE(f.session.retry_at() - f.now, static_cast<uint64_t>(f.options.reconnect_min_ms));
}

TEST(LinkSession, WithoutReconnectAFailureIsFinal) {
  Fixture f(0, /*reconnect=*/false);
  f.session.Start(f.now);
  f.session.OnFailure({ErrorCode::kNotEnrolled, "not enrolled"}, f.now);
  EXPECT_EQ(f.session.state(), State::kFailed);
  EXPECT_FALSE(f.session.OnTick(f.now + 100000).open);
  EXPECT_EQ(f.store.reports.back(), "refused");
}

TEST(LinkSession, AHubErrorEndsTheConnectionWithItsReason) {
  Fixture f(0);
  f.session.Start(f.now);
  f.session.OnSecured(f.now);
  LinkEffects effects = f.session.OnMessage(
      protocol::ErrorReply{ErrorCode::kSchemaMismatch, "schema differs", f.now}, 50, f.now);
  EXPECT_TRUE(effects.close);
  EXPECT_EQ(f.session.failure().code(), ErrorCode::kSchemaMismatch);
  EXPECT_NE(f.store.last_failure.find("schema differs"), std::string::npos);
}

// Bundles are the same protocol written to a file: the Hello, then every unacknowledged change
// in pushes that follow each other without a gap.
TEST(LinkSession, ABundleCarriesTheHelloAndEveryUnacknowledgedChange) {
  Fixture f(50'000);
  f.store.SaveAcked(1234);
  std::vector<protocol::Message> messages = f.session.BundleMessages(f.now, 1 << 20);
  ASSERT_GE(messages.size(), 3u);
  EXPECT_EQ(std::get<protocol::Hello>(messages[0]).log_head, 50'000u);
  uint64_t next = 1235;
  for (size_t i = 1; i < messages.size(); ++i) {
    const auto& push = std::get<protocol::Push>(messages[i]);
    EXPECT_EQ(push.first, next);
    next += push.changes.size();
  }
  EXPECT_EQ(next, 50'001u);
}

TEST(LinkSession, AReplyBundleIsAWelcomeADeliverAndMaybeAReofferAck) {
  Fixture f(10);
  size_t delivered = 0;
  Status wrong = f.session.ImportReply({protocol::Deliver{}}, &delivered);
  EXPECT_EQ(wrong.code(), ErrorCode::kBadBundle);
  protocol::Deliver page{1, 3, 3, {1, 2, 3}, {"a", "b", "c"}, {}};
  ASSERT_TRUE(
      f.session.ImportReply({protocol::Welcome{10, 3, f.now, "e1", 60000}, page}, &delivered).ok());
  EXPECT_EQ(delivered, 3u);
  EXPECT_EQ(f.store.acked(), 10u);
  EXPECT_EQ(f.store.cursor(), 3u);
}

// A simulated link and hub: frames cross one at a time per direction at `rate` bytes per ms after
// `latency` ms, and every connection is reset once it carried `budget` bytes in both directions
// (frames cut in transfer are lost). The hub commits every push that arrives whole, in order.
class FlakyLink {
 public:
  FlakyLink(Fixture& f, uint64_t budget, double rate, uint64_t latency)
      : f_(f), budget_(budget), rate_(rate), latency_(latency) {}

  // Runs until the hub holds the whole log or `limit_ms` pass; the simulated time it took.
  uint64_t Run(uint64_t limit_ms) {
    uint64_t start = f_.now;
    Handle(f_.session.Start(f_.now), true);
    while (hub_acked_ < f_.store.LogHead() && f_.now - start < limit_ms) {
      uint64_t next = f_.now + 10;
      if (!arrivals_.empty()) next = std::min(next, arrivals_.top().at);
      if (open_ && cut_at_ > 0) next = std::min(next, cut_at_);
      f_.now = std::max(f_.now, next);
      if (open_ && cut_at_ > 0 && f_.now >= cut_at_) {
        open_ = false;
        ++connections_cut_;
        arrivals_ = {};
        Handle(f_.session.OnFailure({ErrorCode::kDisconnected, "reset"}, f_.now), false);
        continue;
      }
      while (!arrivals_.empty() && arrivals_.top().at <= f_.now) {
        Arrival arrival = arrivals_.top();
        arrivals_.pop();
        if (arrival.to_hub) {
          OnHub(arrival.frame);
        } else {
          protocol::Message message;
          ASSERT_OK(arrival.frame, &message, false);
          Handle(f_.session.OnMessage(message, arrival.frame.size(), f_.now), false);
        }
      }
      Handle(f_.session.OnTick(f_.now), false);
    }
    return f_.now - start;
  }

  uint64_t hub_acked() const { return hub_acked_; }
  uint64_t connections() const { return connections_; }
  uint64_t connections_cut() const { return connections_cut_; }
  uint64_t connections_without_progress() const { return without_progress_; }

 private:
  struct Arrival {
    uint64_t at;
    bool to_hub;
    std::string frame;
    bool operator<(const Arrival& other) const { return at > other.at; }
  };

  void ASSERT_OK(const std::string& frame, protocol::Message* message, bool to_hub) {
    protocol::MessageLimits limits;
    Status status =
        protocol::DecodeMessage({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()},
                                limits, message, to_hub ? &hub_received_ : nullptr);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }

  void Handle(const LinkEffects& effects, bool) {
    if (effects.close && open_) {
      open_ = false;
      arrivals_ = {};
    }
    if (effects.open) {
      if (connections_ > 0 && hub_acked_ == acked_at_connect_) ++without_progress_;
      acked_at_connect_ = hub_acked_;
      ++connections_;
      open_ = true;
      hub_received_ = {};
      carried_ = 0;
      cut_at_ = 0;
      up_free_ = down_free_ = f_.now;
      // TCP, ZMTP greeting and CURVE handshake: two round trips, about 1 KB.
      carried_ = 1024;
      f_.now += 4 * latency_;
      Handle(f_.session.OnConnected(f_.now), false);
      Handle(f_.session.OnSecured(f_.now), false);
    }
    for (const std::string& frame : effects.frames) Send(frame, true);
  }

  void Send(const std::string& frame, bool to_hub) {
    if (!open_ || cut_at_ > 0) return;
    uint64_t& free = to_hub ? up_free_ : down_free_;
    uint64_t start = std::max(f_.now, free);
    uint64_t bytes = frame.size() + 64;  // framing and CURVE box
    if (carried_ + bytes > budget_) {
      // Cut in transfer: the connection resets once the budget is used up.
      cut_at_ = start + static_cast<uint64_t>((budget_ - carried_) / rate_) + latency_;
      carried_ = budget_;
      return;
    }
    carried_ += bytes;
    free = start + static_cast<uint64_t>(bytes / rate_);
    arrivals_.push({free + latency_, to_hub, frame});
  }

  void OnHub(const std::string& frame) {
    protocol::Message message;
    ASSERT_OK(frame, &message, true);
    if (std::holds_alternative<protocol::Hello>(message)) {
      Send(protocol::EncodeMessage(protocol::Welcome{hub_acked_, 0, f_.now, "e1", 60000}), false);
    } else if (auto* push = std::get_if<protocol::Push>(&message)) {
      bool gap = push->first > hub_acked_ + 1;
      if (!gap) hub_acked_ = std::max(hub_acked_, push->first + push->changes.size() - 1);
      Send(protocol::EncodeMessage(protocol::Ack{hub_acked_, gap}), false);
    }
  }

  Fixture& f_;
  uint64_t budget_;
  double rate_;
  uint64_t latency_;
  std::priority_queue<Arrival> arrivals_;
  bool open_ = false;
  protocol::RunHistory hub_received_;  // what this connection carried to the hub
  uint64_t carried_ = 0;
  uint64_t cut_at_ = 0;
  uint64_t up_free_ = 0;
  uint64_t down_free_ = 0;
  uint64_t hub_acked_ = 0;
  uint64_t acked_at_connect_ = 0;
  uint64_t connections_ = 0;
  uint64_t connections_cut_ = 0;
  uint64_t without_progress_ = 0;
};

// 30,000 changes through a link that resets every connection after 128 KiB: every connection
// after the first few gets changes through, and the whole log arrives.
TEST(LinkSession, ALinkThatDropsEveryConnectionStillMakesSteadyProgress) {
  Fixture f(30000);
  f.options.batch_bytes = 256 * 1024;
  f.options.window = 4;
  FlakyLink link(f, 128 * 1024, /*bytes per ms=*/2000, /*latency ms=*/1);
  uint64_t took = link.Run(/*limit_ms=*/300'000);
  EXPECT_EQ(link.hub_acked(), 30000u)
      << "took " << took << " ms over " << link.connections() << " connections";
  EXPECT_GE(link.connections_cut(), 5u) << "the link never cut: the test proves nothing";
  EXPECT_LE(link.connections_without_progress(), 2u)
      << "of " << link.connections() << " connections";
  std::cout << "[ figures  ] " << took << " ms simulated, " << link.connections()
            << " connections, " << link.connections_cut() << " cut\n";
  // Each cut costs at most a backoff of 250 ms once the link shows progress.
  EXPECT_LE(took, link.connections() * 400 + 5000);
}

}  // namespace
}  // namespace osrc::node
