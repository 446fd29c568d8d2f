// A long thin pipe on a fake clock: the site's LinkSession and the hub's SiteSession over a
// simulated 64 kbit/s link with 1 s one-way latency. Pushes and Deliver pages must keep the link
// busy, not wait a round trip for each acknowledgement.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <queue>
#include <random>

#include "hub/site_session.h"
#include "node/link_session.h"
#include "storage/merge.h"

namespace osrc::node {
namespace {

constexpr uint64_t kSchema = 42;
constexpr double kBytesPerMs = 8;  // 64 kbit/s
constexpr uint64_t kLatencyMs = 1000;

// The site's store in memory: a log of `head` changes of `change_bytes` each (or, with
// `real_changes`, participants as a site logs them); deliveries only move the cursor.
class SiteStore final : public LinkStore {
 public:
  SiteStore(uint64_t head, size_t change_bytes, bool real_changes)
      : head_(head), change_bytes_(change_bytes), real_changes_(real_changes) {}
  Position Read() override { return {head_, cursor_, acked_, epoch_}; }
  uint64_t LogHead() override { return head_; }
  std::vector<std::string> ReadLog(uint64_t first, uint64_t last, size_t max_bytes) override {
    std::vector<std::string> changes;
    size_t bytes = 0;
    for (uint64_t seq = first; seq <= last && (changes.empty() || bytes < max_bytes); ++seq) {
      changes.push_back(real_changes_ ? Participant(seq) : Entry(seq, change_bytes_));
      bytes += changes.back().size();
    }
    return changes;
  }
  Status ApplyWelcome(const protocol::Welcome& welcome, bool, uint64_t, uint64_t,
                      Welcomed* out) override {
    epoch_ = welcome.epoch;
    acked_ = welcome.acked;
    *out = {head_, acked_, cursor_, false};
    return {};
  }
  Status ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) override {
    cursor_ = std::max(cursor_, deliver.last);
    *cursor = cursor_;
    return {};
  }
  void SaveAcked(uint64_t acked) override { acked_ = acked; }
  std::optional<protocol::Reoffer> NextReoffer(size_t) override { return std::nullopt; }
  void DropReoffered(uint64_t) override {}
  void Report(const std::string&, const std::string&, uint64_t) override {}

  // A new participant: compact runs of these compress some tenfold.
  static std::string Participant(uint64_t seq) {
    static const char* kGiven[] = {"Maria", "Jose", "Ana", "Juan", "Rosa", "Pedro", "Luz", "Ramon"};
    static const char* kFamily[] = {"Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia"};
    static const char* kPlaces[] = {"Aroroy", "Baleno", "Cataingan", "Dimasalang", "Esperanza"};
    std::mt19937_64 random(seq);
    auto pick = [&](const auto& list) { return std::string(list[random() % std::size(list)]); };
    char birth[11];
    std::snprintf(birth, sizeof birth, "19%02d-%02d-%02d", static_cast<int>(50 + random() % 50),
                  static_cast<int>(1 + random() % 12), static_cast<int>(1 + random() % 28));
    char id[16];
    std::snprintf(id, sizeof id, "MAS-P%07llu", static_cast<unsigned long long>(seq));
    protocol::Change change("participants", id, "MAS", seq, (uint64_t{1} << 40) + seq * 70000, 0,
                            false,
                            {{"birth_date", std::string(birth)},
                             {"family_name", pick(kFamily)},
                             {"given_name", pick(kGiven)},
                             {"municipality", pick(kPlaces)},
                             {"sex", std::string(random() % 2 ? "female" : "male")}});
    return protocol::EncodeChange(change);
  }

  // Hex of random bytes: compresses about twofold.
  static std::string Entry(uint64_t seq, size_t bytes) {
    std::mt19937_64 random(seq);
    std::string entry;
    while (entry.size() < bytes) entry += "0123456789abcdef"[random() % 16];
    return entry;
  }

 private:
  uint64_t head_;
  size_t change_bytes_;
  bool real_changes_;
  uint64_t acked_ = 0;
  uint64_t cursor_ = 0;
  std::string epoch_;
};

// One direction of the link: frames cross one after another at kBytesPerMs, then kLatencyMs.
struct Direction {
  struct Frame {
    uint64_t start;
    uint64_t end;
    bool bulk;  // a Push or Deliver page
  };
  uint64_t free_at = 0;
  uint64_t bytes = 0;
  std::vector<Frame> frames;

  // When a frame of `bytes` sent at `now` arrives.
  uint64_t Carry(uint64_t now, size_t bytes, bool bulk) {
    uint64_t start = std::max(now, free_at);
    free_at = start + static_cast<uint64_t>(static_cast<double>(bytes + 64) / kBytesPerMs);
    frames.push_back({start, free_at, bulk});
    this->bytes += bytes;
    return free_at + kLatencyMs;
  }
  // The share of the time the link carried frames, from the first bulk frame to the last.
  double Busy() const {
    uint64_t first = UINT64_MAX, last = 0, busy = 0;
    for (const Frame& frame : frames) {
      if (!frame.bulk) continue;
      first = std::min(first, frame.start);
      last = std::max(last, frame.end);
    }
    for (const Frame& frame : frames) {
      if (frame.start >= first && frame.end <= last) busy += frame.end - frame.start;
    }
    return last > first ? static_cast<double>(busy) / static_cast<double>(last - first) : 0;
  }
};

// A site and a hub holding `hub_entries` reference changes for it, over the link.
class ThinPipe {
 public:
  ThinPipe(uint64_t site_changes, uint64_t hub_entries, bool real_changes = false)
      : site_store_(site_changes, 120, real_changes),
        session_(options_, {"MAS", kSchema, "tcp://hub"}, site_store_, true, 7),
        hub_("MAS",
             {.epoch = "e1",
              .schema_hash = kSchema,
              .merge_version = storage::kMergeVersion,
              .max_skew_ms = 60'000},
             now_),
        hub_entries_(hub_entries) {
    options_.heartbeat_ms = 2000;
    options_.heartbeat_timeout_ms = 6000;
    options_.request_timeout_ms = 30000;
  }

  // Runs until the site is in step or `limit_ms` pass; the simulated time it took.
  uint64_t Run(uint64_t limit_ms) {
    uint64_t start = now_;
    Site(session_.Start(now_));
    while (!session_.reached_in_step() && now_ - start < limit_ms) {
      now_ = arrivals_.empty() ? now_ + 10 : std::min(now_ + 10, arrivals_.top().at);
      while (!arrivals_.empty() && arrivals_.top().at <= now_) {
        Arrival arrival = arrivals_.top();
        arrivals_.pop();
        protocol::Message message;
        Status decoded = protocol::DecodeMessage(
            {reinterpret_cast<const uint8_t*>(arrival.frame.data()), arrival.frame.size()}, {},
            &message, arrival.to_hub ? &hub_received_ : &site_received_);
        if (!decoded.ok()) {
          ADD_FAILURE() << decoded.ToString();
          return now_ - start;
        }
        if (arrival.to_hub) {
          Hub(message);
        } else {
          Site(session_.OnMessage(message, arrival.frame.size(), now_));
        }
      }
      Site(session_.OnTick(now_));
      HubSteps(hub_.OnTick(now_, hub_entries_));
    }
    return now_ - start;
  }

  uint64_t site_cursor() const { return session_.cursor(); }
  uint64_t hub_acked() const { return hub_acked_; }
  const Direction& up() const { return up_; }
  const Direction& down() const { return down_; }

 private:
  struct Arrival {
    uint64_t at;
    bool to_hub;
    std::string frame;
    bool operator<(const Arrival& other) const { return at > other.at; }
  };

  void Site(const LinkEffects& effects) {
    if (effects.open) {
      now_ += 4 * kLatencyMs;  // TCP, ZMTP greeting and CURVE handshake
      Site(session_.OnConnected(now_));
      Site(session_.OnSecured(now_));
    }
    for (const std::string& frame : effects.frames) {
      bool bulk = frame.size() > 1024;
      arrivals_.push({up_.Carry(now_, frame.size(), bulk), true, frame});
    }
  }

  void Hub(const protocol::Message& message) {
    if (auto* hello = std::get_if<protocol::Hello>(&message)) {
      HubSteps(hub_.OnHello(*hello, now_, {hub_acked_, hub_entries_}));
    } else if (auto* push = std::get_if<protocol::Push>(&message)) {
      HubSteps(hub_.OnPush(push->first, std::vector<protocol::Change>(push->changes.size()), now_));
    } else if (auto* ack = std::get_if<protocol::CursorAck>(&message)) {
      HubSteps(hub_.OnCursorAck(*ack, now_, hub_entries_));
    }
  }

  void HubSteps(const hub::SiteSession::Output& output) {
    for (const hub::SiteSession::Step& step : output.steps) {
      if (auto* send = std::get_if<hub::SiteSession::Send>(&step)) {
        HubSend(send->message);
      } else if (auto* push = std::get_if<hub::SiteSession::ApplyPush>(&step)) {
        bool gap = push->first > hub_acked_ + 1;
        if (!gap) hub_acked_ = std::max(hub_acked_, push->first + push->changes.size() - 1);
        HubSend(protocol::Ack{hub_acked_, gap});
      } else if (auto* read = std::get_if<hub::SiteSession::ReadDeliverPage>(&step)) {
        protocol::Deliver page;
        page.first = read->cursor + 1;
        page.hub_head = hub_entries_;
        size_t raw_bytes = 0;
        for (uint64_t seq = page.first;
             seq <= hub_entries_ && page.seqs.size() < read->max_entries &&
             (page.seqs.empty() || raw_bytes < read->max_bytes);
             ++seq) {
          page.seqs.push_back(seq);
          page.changes.push_back(SiteStore::Entry(seq, 60));
          page.seals.emplace_back(16, 's');
          raw_bytes += page.changes.back().size();
        }
        page.last = page.seqs.empty() ? hub_entries_ : page.seqs.back();
        HubSend(page);
        HubSteps(hub_.OnPageSent(page.last, raw_bytes, hub_entries_));
      }
    }
  }

  void HubSend(const protocol::Message& message) {
    std::string frame = protocol::EncodeMessage(message, {.history = &hub_sent_});
    bool bulk = std::holds_alternative<protocol::Deliver>(message);
    arrivals_.push({down_.Carry(now_, frame.size(), bulk), false, frame});
  }

  uint64_t now_ = 1'000'000;
  protocol::LinkOptions options_;
  SiteStore site_store_;
  LinkSession session_;
  hub::SiteSession hub_;
  uint64_t hub_entries_;
  uint64_t hub_acked_ = 0;
  protocol::RunHistory hub_sent_, hub_received_, site_sent_, site_received_;
  std::priority_queue<Arrival> arrivals_;
  Direction up_, down_;
};

TEST(ThinPipe, DeliverPagesInAWindowKeepTheDownlinkBusy) {
  ThinPipe pipe(/*site_changes=*/0, /*hub_entries=*/10000);
  uint64_t took = pipe.Run(/*limit_ms=*/600'000);
  ASSERT_EQ(pipe.site_cursor(), 10000u) << "not delivered in " << took << " ms";
  std::cout << "[ figures  ] 10,000 hub changes over 8,000 B/s + 1 s: " << took
            << " ms simulated, downlink " << static_cast<int>(100 * pipe.down().Busy())
            << "% busy\n";
  EXPECT_GE(pipe.down().Busy(), 0.8);
}

TEST(ThinPipe, PushesInAWindowKeepTheUplinkBusy) {
  for (bool real_changes : {false, true}) {
    ThinPipe pipe(/*site_changes=*/3000, /*hub_entries=*/0, real_changes);
    uint64_t took = pipe.Run(/*limit_ms=*/600'000);
    ASSERT_EQ(pipe.hub_acked(), 3000u) << "not pushed in " << took << " ms";
    std::cout << "[ figures  ] 3,000 site changes (" << (real_changes ? "participants" : "hex")
              << ") over 8,000 B/s + 1 s: " << took << " ms simulated, " << pipe.up().bytes
              << " bytes, uplink " << static_cast<int>(100 * pipe.up().Busy()) << "% busy\n";
    EXPECT_GE(pipe.up().Busy(), 0.8) << (real_changes ? "participants" : "hex");
  }
}

}  // namespace
}  // namespace osrc::node
