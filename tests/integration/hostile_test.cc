// Hostile input at the hub: a real osrc-hub daemon, an honest site (MAS) syncing a few thousand
// records with `osrc-node sync`, and at the same time an enrolled but malicious site (ANT) that
// speaks CurveZMQ with its own key (cppzmq DEALER) and sends thousands of mutated frames: random
// bytes, bit-flipped and truncated valid frames, multi-part messages, frames beyond the hub's
// maximum message size, valid-looking pushes with a forged origin, another site's record ids,
// reference-data writes, wrong sequences, lying size claims and hub changes "handed back" with
// forged seals.
//
// The hub must stay up, answer every bad message with an Error (or drop the connection, for a
// frame beyond its size limit), store nothing of the attacker's, and serve the honest site as if
// nothing happened. Which frames the hub must refuse is decided frame by frame with the hub's own
// pure decode-and-validate entry, hub::DecodeInbound (the oracle); frames it would accept (a
// bit flip that happens to keep a frame valid) are not sent.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>
#include <zmq.hpp>

#include "config/schema_loader.h"
#include "hub/inbound.h"
#include "protocol/change.h"
#include "protocol/curve_keys.h"
#include "protocol/link_options.h"
#include "protocol/messages.h"
#include "protocol/seal.h"
#include "protocol/socket.h"
#include "storage/hlc.h"
#include "tests/support/cluster.h"
#include "tests/support/forged_push.h"
#include "tests/support/process.h"
#include "tests/support/seed.h"
#include "tests/support/temp_dir.h"

namespace osrc::testing {
namespace {

using nlohmann::json;
using protocol::Change;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Rng = std::mt19937_64;

constexpr char kHonest[] = "MAS";
constexpr char kAttacker[] = "ANT";
// The hub's maximum message size in these tests (hub.toml [sync] max_message_bytes).
constexpr size_t kMaxMessageBytes = 1 << 20;
// Text the attacker puts into every record it tries to write; none may reach the hub's store.
constexpr char kMarker[] = "Mallory";

uint64_t NowMillis() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Sets the message limit of a hub not yet started to kMaxMessageBytes.
void LimitMessageSize(const ClusterHub& hub) {
  hub.SetConfig("max_message_bytes", std::to_string(kMaxMessageBytes));
}

// Alive: not reaped, and the pid answers signal 0.
bool Alive(ClusterHub& hub) { return hub.running() && ::kill(hub.daemon()->pid(), 0) == 0; }

// The replies the attacker received, by kind.
struct Tally {
  size_t replies = 0;
  size_t errors = 0;
  size_t gap_acks = 0;
  std::map<std::string, size_t> others;  // anything else, by message name

  void Count(const zmq::message_t& frame) {
    ++replies;
    protocol::Message message;
    Status status = protocol::DecodeMessage(
        {static_cast<const uint8_t*>(frame.data()), frame.size()}, {}, &message);
    if (!status.ok() || frame.more()) {
      ++others["(undecodable or multi-part)"];
    } else if (std::holds_alternative<protocol::ErrorReply>(message)) {
      ++errors;
    } else if (auto* ack = std::get_if<protocol::Ack>(&message); ack != nullptr && ack->gap) {
      ++gap_acks;
    } else {
      ++others[std::string(protocol::MessageName(message))];
    }
  }
};

// Receives on `socket` until `tally` holds `want` replies or `deadline` passes.
void Drain(zmq::socket_t& socket, size_t want, Deadline deadline, Tally* tally) {
  while (tally->replies < want && Clock::now() < deadline) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, milliseconds(100));
    while (std::optional<zmq::message_t> frame = protocol::ReceiveFrame(socket)) {
      tally->Count(*frame);
    }
  }
}

// The malicious site: its enrolled key, frames to send, and what the hub must do with them.
class Attacker {
 public:
  Attacker(uint64_t seed, protocol::KeyPair keys) : rng_(seed), keys_(std::move(keys)) {
    limits_.message.max_frame_bytes = kMaxMessageBytes;
    limits_.max_skew_ms = 5 * 60 * 1000;  // the hub's default
  }

  const protocol::KeyPair& keys() const { return keys_; }
  size_t skipped() const { return skipped_; }

  // A change of the attacker's own site, valid for the hub.
  Change Valid(uint64_t seq) {
    Change change{"participants",
                  "ANT-P" + std::to_string(1000000 + seq),
                  kAttacker,
                  seq,
                  storage::StampOf(NowMillis() - 1000, seq & 0xff),
                  0,
                  false,
                  {}};
    change.fields = {{"consent", true, 0},
                     {"family_name", std::string(kMarker), 0},
                     {"given_name", std::string("Eve"), 0},
                     {"site", std::string(kAttacker), 0}};
    return change;
  }
  static std::string PushOf(uint64_t first, const std::vector<Change>& changes) {
    protocol::Push push;
    push.first = first;
    for (const Change& change : changes) push.changes.push_back(protocol::EncodeChange(change));
    return protocol::EncodeMessage(push);
  }
  std::string ValidPush() { return PushOf(1, {Valid(1), Valid(2), Valid(3)}); }
  std::string ValidHello() {
    return protocol::EncodeMessage(protocol::Hello{protocol::kProtocolVersion, kAttacker,
                                                   config::DefaultSchema().hash(), 0, 0,
                                                   storage::StampOf(NowMillis()), ""});
  }

  // A few thousand frames the hub must refuse, one Error each, in random order; `honest_ids`
  // are the honest site's record ids, for hijack attempts.
  std::vector<std::string> BadFrames(const std::vector<std::string>& honest_ids) {
    std::vector<std::string> frames;
    std::vector<std::string> bases = {ValidHello(), ValidPush(),
                                      protocol::EncodeMessage(protocol::CursorAck{1}),
                                      protocol::EncodeMessage(protocol::Ack{1, false})};
    auto add_if_refused = [&](std::string frame) {
      if (Refused(frame)) {
        frames.push_back(std::move(frame));
      } else {
        ++skipped_;
      }
    };
    // Random bytes, some with a plausible Cap'n Proto segment table.
    for (int i = 0; i < 1000; ++i) {
      std::string frame = RandomBytes(Below(1500));
      if (i % 2 == 0 && frame.size() >= 16) {
        frame.resize(frame.size() / 8 * 8);
        uint32_t header[2] = {0, static_cast<uint32_t>(frame.size() / 8 - 1)};
        frame.replace(0, 8, reinterpret_cast<const char*>(header), 8);
      }
      add_if_refused(std::move(frame));
    }
    // Bit flips and truncations of valid frames.
    for (int i = 0; i < 1500; ++i) {
      std::string frame = bases[Below(bases.size())];
      for (size_t flips = 1 + Below(3); flips > 0; --flips) {
        size_t bit = Below(frame.size() * 8);
        frame[bit / 8] = static_cast<char>(frame[bit / 8] ^ (1 << (bit % 8)));
      }
      add_if_refused(std::move(frame));
    }
    for (int i = 0; i < 800; ++i) {
      const std::string& base = bases[Below(bases.size())];
      add_if_refused(base.substr(0, Below(base.size())));
    }
    // Pushes the hub must refuse however well formed: forged origin, the honest site's record
    // ids, reference data, wrong sequences.
    for (int i = 0; i < 300; ++i) {
      Change forged = Valid(1);
      forged.origin = i % 3 == 0 ? "MNL" : kHonest;  // the hub's id, or the honest site
      forged.id = honest_ids[Below(honest_ids.size())];
      frames.push_back(MustBeRefused(PushOf(1, {forged})));
    }
    for (int i = 0; i < 300; ++i) {
      Change hijack = Valid(1);
      hijack.id = honest_ids[Below(honest_ids.size())];
      frames.push_back(MustBeRefused(PushOf(1, {hijack})));
    }
    for (int i = 0; i < 200; ++i) {
      Change reference{"countries",
                       i % 2 ? "PH" : "ZZ",
                       i % 4 ? kAttacker : "MNL",
                       1,
                       storage::StampOf(NowMillis()),
                       0,
                       false,
                       {{"name", std::string(kMarker), 0}}};
      frames.push_back(MustBeRefused(PushOf(1, {reference})));
    }
    for (int i = 0; i < 300; ++i) {
      uint64_t first = 1 + Below(5);
      std::vector<Change> run = {Valid(first), Valid(first + 1), Valid(first + 2)};
      switch (i % 4) {
        case 0:
          run[1].seq = first + 2;
          break;  // a hole
        case 1:
          run[2].seq = first + 1;
          break;  // a repeat
        case 2:
          run[0].seq = first - 1;
          break;  // before the run
        case 3:
          run[1].seq = first + 1000000;
          break;  // far ahead
      }
      frames.push_back(MustBeRefused(PushOf(first, run)));
    }
    // Hub changes "handed back" with forged seals: reference data, and corrections that would
    // overwrite the honest site's records. The hub takes back only what its seal proves it wrote.
    for (int i = 0; i < 200; ++i) {
      Change handed{"countries",
                    i % 2 ? "PH" : "ZZ",
                    "MNL",
                    1 + Below(50),
                    storage::StampOf(NowMillis()),
                    0,
                    false,
                    {{"name", std::string(kMarker), 0}}};
      if (i % 2 == 0) {
        handed.collection = "participants";
        handed.id = honest_ids[Below(honest_ids.size())];
        handed.fields = {{"family_name", std::string(kMarker), 0}};
      }
      std::string bytes = protocol::EncodeChange(handed);
      frames.push_back(MustBeRefused(protocol::EncodeMessage(protocol::Reoffer{
          1 + Below(9), {bytes}, {RandomBytes(i % 5 == 0 ? Below(64) : protocol::kSealBytes)}})));
    }
    frames.push_back(MustBeRefused(PushOf(0, {Valid(0)})));
    frames.push_back(MustBeRefused(PushOf(UINT64_MAX, {Valid(UINT64_MAX), Valid(0)})));
    // Pushes whose size claims lie.
    uint32_t raw_size = 0;
    std::string compressed;
    PushParts(ValidPush(), &raw_size, &compressed);
    const uint32_t kClaims[] = {
        0xFFFFFFF8u, 64u << 20, (64u << 20) + 8, raw_size - 8, raw_size + 8, raw_size + 3, 0, 8};
    for (int i = 0; i < 200; ++i) {
      uint32_t count = i % 5 == 4 ? 1000000 : 3;
      uint32_t claim = i % 5 == 4 ? raw_size : kClaims[Below(std::size(kClaims))];
      frames.push_back(MustBeRefused(RawPush(1, count, claim, compressed)));
    }
    // Messages a site never sends, and hellos the hub refuses.
    for (int i = 0; i < 100; ++i) {
      switch (i % 4) {
        case 0:
          frames.push_back(protocol::EncodeMessage(protocol::Ack{Below(9), true}));
          break;
        case 1:
          frames.push_back(protocol::EncodeMessage(protocol::Welcome{1, 2, 3, "e", 4}));
          break;
        case 2:
          frames.push_back(
              protocol::EncodeMessage(protocol::ErrorReply{ErrorCode::kInternal, "x", 0}));
          break;
        case 3:
          frames.push_back(protocol::EncodeMessage(protocol::Deliver{1, 1, 1, {}, {}, {}}));
          break;
      }
    }
    for (int i = 0; i < 150; ++i) {
      protocol::Hello hello{
          protocol::kProtocolVersion,    kAttacker, config::DefaultSchema().hash(), 0, 0,
          storage::StampOf(NowMillis()), ""};
      switch (i % 3) {
        case 0:
          hello.version = protocol::kProtocolVersion + 1 + Below(100);
          break;
        case 1:
          hello.site = i % 2 ? kHonest : "MNL";
          break;
        case 2:
          hello.schema_hash ^= 1 + Below(1000);
          break;
      }
      frames.push_back(protocol::EncodeMessage(hello));
    }
    // Just under the size limit: passes ZeroMQ, refused by the decoder.
    frames.push_back(RandomBytes(kMaxMessageBytes - 4096));
    std::shuffle(frames.begin(), frames.end(), rng_);
    return frames;
  }

  // Valid pushes from far beyond what the hub holds: answered with an Ack with the gap set.
  std::vector<std::string> GapPushes(int count) {
    std::vector<std::string> frames;
    for (int i = 0; i < count; ++i) {
      uint64_t first = 1000 + Below(1000000);
      frames.push_back(PushOf(first, {Valid(first), Valid(first + 1)}));
    }
    return frames;
  }

  std::string RandomBytes(size_t size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(rng_() & 0xff);
    return bytes;
  }
  size_t Below(size_t bound) { return bound == 0 ? 0 : rng_() % bound; }

 private:
  // Whether the hub refuses `frame` from the attacker: its decode-and-validate entry refuses it,
  // or it is a message the hub never takes from a site.
  bool Refused(const std::string& frame) {
    hub::Inbound inbound;
    Status status =
        hub::DecodeInbound({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()},
                           kAttacker, config::DefaultSchema(), Limits(), &inbound);
    if (!status.ok()) return true;
    const protocol::Message& message = inbound.message;
    return !std::holds_alternative<protocol::Hello>(message) &&
           !std::holds_alternative<protocol::Push>(message) &&
           !std::holds_alternative<protocol::CursorAck>(message);
  }
  std::string MustBeRefused(std::string frame) {
    if (!Refused(frame)) throw std::logic_error("the test built a frame the hub accepts");
    return frame;
  }
  hub::InboundLimits Limits() {
    limits_.now_ms = NowMillis();
    return limits_;
  }

  Rng rng_;
  protocol::KeyPair keys_;
  hub::InboundLimits limits_;
  size_t skipped_ = 0;
};

// A CurveZMQ DEALER to the hub with `keys`; sends block at most 10 s.
zmq::socket_t Connect(zmq::context_t& context, const ClusterHub& hub,
                      const protocol::KeyPair& keys) {
  zmq::socket_t socket = protocol::MakeDealer(context, keys, hub.key(), protocol::LinkOptions{});
  socket.set(zmq::sockopt::sndtimeo, 10000);
  socket.connect(hub.endpoint());
  return socket;
}

// Watches a socket for the loss of its connection (ZeroMQ socket monitor events).
class DisconnectMonitor {
 public:
  DisconnectMonitor(zmq::context_t& context, zmq::socket_t& socket, const std::string& endpoint)
      : events_(context, zmq::socket_type::pair) {
    if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) {
      throw zmq::error_t();
    }
    events_.connect(endpoint);
  }

  // Whether the socket lost its connection before `deadline`.
  bool WaitForDisconnect(Deadline deadline) {
    while (Clock::now() < deadline) {
      zmq::pollitem_t item{events_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, milliseconds(100));
      zmq::message_t event, address;
      // An event is two frames: 16-bit event id and 32-bit value, then the endpoint.
      if (!events_.recv(event, zmq::recv_flags::dontwait)) continue;
      if (event.more()) (void)events_.recv(address);
      uint16_t id = 0;
      if (event.size() >= sizeof id) std::memcpy(&id, event.data(), sizeof id);
      if (id == ZMQ_EVENT_DISCONNECTED) return true;
    }
    return false;
  }

 private:
  zmq::socket_t events_;
};

void MustSend(zmq::socket_t& socket, const std::string& frame, bool more = false) {
  auto flags = more ? zmq::send_flags::sndmore : zmq::send_flags::none;
  if (!socket.send(zmq::buffer(frame), flags)) throw std::runtime_error("send timed out");
}

uint64_t HostileSeed() { return SeedFromEnv("OSRC_HOSTILE_SEED", 20250101); }

TEST(HubHostileInput, HubRefusesEveryMutatedMessageWhileAnHonestSiteSyncs) {
  const uint64_t seed = HostileSeed();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (set OSRC_HOSTILE_SEED to replay)");
  TempDir tmp("osrc-hostile");
  ClusterHub hub(tmp);
  LimitMessageSize(hub);

  // The honest site, with a few thousand records to sync.
  ClusterNode honest_site(tmp, kHonest, hub);
  std::string data =
      GenerateSample(tmp, kHonest, {"--participants", "1500", "--services-per", "1"}, "mas.jsonl");
  honest_site.Import(data);
  std::vector<std::string> honest_ids;
  for (const std::string& line : SplitLines(ReadFile(data))) {
    honest_ids.push_back(json::parse(line)["id"].get<std::string>());
  }
  ASSERT_EQ(honest_ids.size(), 3000u);

  // The attacker: an enrolled site key of its own.
  Attacker attacker(seed, protocol::GenerateKeyPair());
  hub.Enrol(kAttacker, attacker.keys().public_key);
  hub.Start();

  // Rounds of a few thousand bad messages, pipelined in windows, for as long as the honest sync
  // runs (it starts once the first window is answered).
  zmq::context_t context(1);
  zmq::socket_t socket = Connect(context, hub, attacker.keys());
  std::unique_ptr<Process> sync;
  Deadline attack_end = DeadlineIn(seconds(30));
  Clock::time_point attack_start = Clock::now();
  Tally tally;
  size_t sent = 0, multipart = 0, gap_pushes = 0, rounds = 0;
  constexpr size_t kWindow = 250;
  while (rounds == 0 || (sync->running() && Clock::now() < attack_end)) {
    ++rounds;
    std::vector<std::string> bad = attacker.BadFrames(honest_ids);
    std::vector<std::string> gaps = attacker.GapPushes(50);
    ASSERT_GT(bad.size(), 4000u) << attacker.skipped() << " frames the hub would accept skipped";
    size_t next_gap = 0;
    for (size_t i = 0; i < bad.size(); ++sent) {
      // One in ten is multi-part (each answered with one Error); a gap push now and then.
      if (sent % 10 == 9) {
        size_t parts = 2 + attacker.Below(3);
        for (size_t p = 0; p < parts && i < bad.size(); ++p, ++i) {
          MustSend(socket, bad[i], p + 1 < parts && i + 1 < bad.size());
        }
        ++multipart;
      } else if (sent % 97 == 50 && next_gap < gaps.size()) {
        MustSend(socket, gaps[next_gap++]);
        ++gap_pushes;
      } else {
        MustSend(socket, bad[i++]);
      }
      if ((sent + 1) % kWindow == 0) Drain(socket, sent + 1, DeadlineIn(seconds(20)), &tally);
      if (sync == nullptr && sent + 1 == kWindow) {
        sync = honest_site.StartSync(60);
      }
    }
  }
  Drain(socket, sent, DeadlineIn(seconds(20)), &tally);
  // Anything more would be a second answer to some message: wait a moment for stragglers.
  Drain(socket, sent + 1, DeadlineIn(milliseconds(500)), &tally);

  auto attack_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - attack_start).count();
  std::cout << "attacker: " << rounds << " rounds, " << sent << " messages (" << multipart
            << " multi-part, " << gap_pushes << " gap pushes; " << attacker.skipped()
            << " mutations the hub would accept not sent), " << tally.errors << " Errors back in "
            << attack_ms << " ms; honest sync " << (sync->running() ? "still running" : "done")
            << " when the attack ended\n";
  EXPECT_TRUE(Alive(hub)) << hub.daemon()->stderr_text().substr(0, 4000);
  EXPECT_EQ(tally.replies, sent);
  EXPECT_EQ(tally.errors, sent - gap_pushes) << multipart << " multi-part messages";
  EXPECT_EQ(tally.gap_acks, gap_pushes);
  EXPECT_TRUE(tally.others.empty()) << json(tally.others).dump();

  // Frames beyond the size limit: ZeroMQ drops the connection; an answer, if any, is an Error.
  for (int i = 0; i < 3; ++i) {
    zmq::socket_t big = Connect(context, hub, attacker.keys());
    DisconnectMonitor monitor(context, big, "inproc://hostile-monitor-" + std::to_string(i));
    Tally oversized;
    MustSend(big, protocol::EncodeMessage(protocol::Ack{1, false}));  // connected and answered
    Drain(big, 1, DeadlineIn(seconds(10)), &oversized);
    ASSERT_EQ(oversized.errors, 1u);
    MustSend(big, attacker.RandomBytes(kMaxMessageBytes + 1 + attacker.Below(100000)));
    EXPECT_TRUE(monitor.WaitForDisconnect(DeadlineIn(seconds(10))))
        << "the hub kept the connection of a frame beyond its size limit";
    Drain(big, 2, DeadlineIn(milliseconds(300)), &oversized);
    EXPECT_EQ(oversized.replies, oversized.errors);
  }
  EXPECT_TRUE(Alive(hub)) << hub.daemon()->stderr_text().substr(0, 4000);

  // The connection of the attacker still works, and is still refused.
  Tally after;
  MustSend(socket, protocol::EncodeMessage(protocol::Ack{1, false}));
  Drain(socket, 1, DeadlineIn(seconds(10)), &after);
  EXPECT_EQ(after.errors, 1u);

  // The honest site synced in full, and only what it wrote is at the hub.
  std::optional<ExitStatus> synced = sync->WaitFor(seconds(90));
  ASSERT_TRUE(synced.has_value()) << "osrc-node sync did not finish";
  EXPECT_TRUE(synced->success()) << synced->ToString() << "\n" << sync->stderr_text();
  std::string hub_export = hub.ExportSite(kHonest);
  EXPECT_EQ(SplitLines(hub_export).size(), 3000u);
  EXPECT_TRUE(SameExport("the MAS records (site, hub)", honest_site.ExportOwn(), hub_export));
  std::string everything = hub.Export();
  EXPECT_EQ(everything.find(kMarker), std::string::npos) << "a record of the attacker was stored";
  EXPECT_EQ(hub.ExportSite(kAttacker), "");
  json honest = hub.SiteStatus(kHonest), attacking = hub.SiteStatus(kAttacker);
  EXPECT_EQ(honest["acked"], 3000) << honest.dump();
  EXPECT_EQ(attacking["acked"], 0) << attacking.dump();
  EXPECT_EQ(attacking["records"], 0) << attacking.dump();

  ASSERT_TRUE(Alive(hub));
  hub.Stop();
}

TEST(HubHostileInput, UnenrolledKeyGetsNoAnswer) {
  TempDir tmp("osrc-hostile-stranger");
  ClusterHub hub(tmp);
  LimitMessageSize(hub);
  protocol::KeyPair enrolled = protocol::GenerateKeyPair();
  hub.Enrol(kAttacker, enrolled.public_key);
  hub.Start();

  zmq::context_t context(1);
  Attacker stranger(HostileSeed(), protocol::GenerateKeyPair());
  std::vector<std::string> frames;
  for (int i = 0; i < 20; ++i)
    frames.push_back(i % 2 ? stranger.ValidHello() : stranger.ValidPush());
  zmq::socket_t socket = Connect(context, hub, stranger.keys());
  // Queued until the hub refuses the handshake; after that the socket has no connection to queue
  // them to, and a send that cannot go is no answer either.
  for (const std::string& frame : frames) {
    (void)socket.send(zmq::buffer(frame), zmq::send_flags::dontwait);
  }
  Tally tally;
  Drain(socket, 1, DeadlineIn(seconds(3)), &tally);
  EXPECT_EQ(tally.replies, 0u);
  EXPECT_TRUE(
      hub.daemon()->WaitForOutputLine("not enrolled", DeadlineIn(seconds(10)), Stream::kStderr))
      << hub.daemon()->stderr_text();

  // The enrolled key is answered on the same hub.
  zmq::socket_t known = Connect(context, hub, enrolled);
  MustSend(known, protocol::EncodeMessage(protocol::Ack{1, false}));
  Tally answered;
  Drain(known, 1, DeadlineIn(seconds(10)), &answered);
  EXPECT_EQ(answered.errors, 1u);
  EXPECT_TRUE(Alive(hub));
  EXPECT_TRUE(hub.SiteStatus("MAS").is_null());
}

// The first reply on `socket`, decoded; fails the test if none comes before `deadline`.
protocol::Message ReplyOn(zmq::socket_t& socket, Deadline deadline) {
  while (Clock::now() < deadline) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, milliseconds(100));
    if (std::optional<zmq::message_t> frame = protocol::ReceiveFrame(socket)) {
      protocol::Message message;
      Status status = protocol::DecodeMessage(
          {static_cast<const uint8_t*>(frame->data()), frame->size()}, {}, &message);
      EXPECT_TRUE(status.ok()) << status.ToString();
      return message;
    }
  }
  ADD_FAILURE() << "no reply from the hub";
  return protocol::ErrorReply{};
}

// A push naming a participant the hub never held passes the content checks (hub::DecodeInbound)
// but not the merge: it is refused whole with an Error naming change, record and field, and the
// site's honest push (the participant first) is merged after it.
TEST(HubHostileInput, PushReferencingAParticipantTheHubNeverHeldIsRefusedWhole) {
  TempDir tmp("osrc-hostile-dangling");
  ClusterHub hub(tmp);
  protocol::KeyPair keys = protocol::GenerateKeyPair();
  hub.Enrol(kAttacker, keys.public_key);
  hub.Start();
  zmq::context_t context(1);
  zmq::socket_t socket = Connect(context, hub, keys);
  Attacker site(HostileSeed(), keys);
  Change participant = site.Valid(1);
  Change service{"services", "ANT-S1", kAttacker, 2, storage::StampOf(NowMillis() - 1000, 2),
                 0,          false,    {}};
  service.fields = {{"date", std::string("2024-03-01"), 0},
                    {"participant_id", std::string("ANT-P9"), 0},
                    {"service_type", std::string("referral"), 0}};
  std::string forged = Attacker::PushOf(1, {participant, service});
  hub::InboundLimits limits;
  limits.now_ms = NowMillis();
  limits.max_skew_ms = 5 * 60 * 1000;
  hub::Inbound inbound;
  ASSERT_TRUE(hub::DecodeInbound({reinterpret_cast<const uint8_t*>(forged.data()), forged.size()},
                                 kAttacker, config::DefaultSchema(), limits, &inbound)
                  .ok())
      << "the content checks alone must let it through";
  MustSend(socket, forged);
  protocol::Message reply = ReplyOn(socket, DeadlineIn(seconds(10)));
  auto* error = std::get_if<protocol::ErrorReply>(&reply);
  ASSERT_NE(error, nullptr) << protocol::MessageName(reply);
  EXPECT_EQ(error->code, ErrorCode::kBadInput);
  EXPECT_EQ(error->message,
            "change 2: services/ANT-S1: field \"participant_id\": no participants record "
            "\"ANT-P9\"");
  EXPECT_EQ(hub.ExportSite(kAttacker), "");

  service.fields[1].value = participant.id;
  MustSend(socket, Attacker::PushOf(1, {participant, service}));
  reply = ReplyOn(socket, DeadlineIn(seconds(10)));
  auto* ack = std::get_if<protocol::Ack>(&reply);
  ASSERT_NE(ack, nullptr) << protocol::MessageName(reply);
  EXPECT_EQ(ack->acked, 2u);
  EXPECT_EQ(SplitLines(hub.ExportSite(kAttacker)).size(), 2u);
  EXPECT_TRUE(Alive(hub));
}

}  // namespace
}  // namespace osrc::testing
