// Tests of the compact form of change runs (protocol/compact_run.h): every change comes back as
// its exact stored bytes, whatever it holds; bytes EncodeChange would not write travel as they
// are, or as their values in a run to a receiver of values; a run cut or altered anywhere is
// refused with a reason, never misread; and a connection cut in the middle of its compressed stream
// loses nothing.
#include "protocol/compact_run.h"

#include <capnp/serialize-packed.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "protocol/messages.h"
#include "protocol/sync.capnp.h"
#include "tests/support/decode_frame.h"

namespace osrc::protocol {
namespace {

using testing::DecodeFrame;

Change Participant(int n, uint64_t stamp) {
  std::string id = "MAS-P" + std::to_string(1000000 + n);
  return Change("participants", id, "MAS", static_cast<uint64_t>(n), stamp, 0, false,
                {{"birth_date", std::string("1990-04-0") + std::to_string(n % 9 + 1)},
                 {"family_name", std::string(n % 2 ? "Santos" : "Dela Cruz")},
                 {"given_name", std::string("Maria")},
                 {"household_size", int64_t{n % 7}},
                 {"remittance_share", 0.25 * n},
                 {"returned", n % 3 == 0},
                 {"spouse_name", Value{}}});
}

// Changes of every shape a log holds: new records, edits with bases and base origins, deletes,
// an erasure, texts with NULs and non-ASCII, extreme numbers, another origin.
std::vector<std::string> MixedLog() {
  std::vector<std::string> log;
  uint64_t stamp = uint64_t{1'735'689'600'000} << 16;
  for (int n = 1; n <= 40; ++n) log.push_back(EncodeChange(Participant(n, stamp += 70000)));
  stamp += 3;
  Change edit("participants", "MAS-P1000003", "MAS", 41, stamp, stamp - 500, false,
              {{"family_name", std::string("Reyes\0Cruz", 10), stamp - 900, "MNL"},
               {"given_name", std::string("Ma. Lourdes Ñ"), stamp - 800}},
              "MNL");
  log.push_back(EncodeChange(edit));
  Change numbers("services", "MAS-S0000001", "MAS", 42, stamp - 10, 0, false,
                 {{"amount", std::numeric_limits<double>::lowest()},
                  {"count", std::numeric_limits<int64_t>::min()},
                  {"limit", std::numeric_limits<int64_t>::max()}});
  log.push_back(EncodeChange(numbers));
  log.push_back(
      EncodeChange(Change("services", "MAS-S0000001", "MAS", 43, stamp + 1, stamp - 10, true, {})));
  Change erasure("participants", "MAS-P1000004", "MAS", 44, stamp + 2, stamp, true, {});
  erasure.erased = true;
  log.push_back(EncodeChange(erasure));
  log.push_back(EncodeChange(
      Change("localities", "L-001", "MNL", 7, 5, 0, false, {{"name", std::string("Aroroy")}})));
  return log;
}

RunContents MustDecode(const std::string& run,
                       std::vector<std::optional<Change>>* values = nullptr) {
  RunContents out;
  Status status = DecodeCompactRun(run, 100000, DecodeLimits{}, &out, values);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

TEST(CompactRunTest, EveryChangeComesBackAsItsExactBytes) {
  RunContents contents{MixedLog(), {}, {}};
  std::string run = EncodeCompactRun(contents);
  EXPECT_EQ(run.size() % 8, 0u);
  RunContents back = MustDecode(run);
  EXPECT_EQ(back.changes, contents.changes);
  EXPECT_TRUE(back.seqs.empty());
  EXPECT_TRUE(back.seals.empty());
}

TEST(CompactRunTest, ValuesComeBackAsTheChangesTheirBytesDecodeTo) {
  RunContents contents{MixedLog(), {}, {}};
  std::vector<std::optional<Change>> values;
  RunContents back = MustDecode(EncodeCompactRun(contents), &values);
  ASSERT_EQ(values.size(), contents.changes.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE(values[i]) << i;
    EXPECT_TRUE(back.changes[i].empty()) << i;
    Change expected;
    ASSERT_TRUE(DecodeChange(contents.changes[i], DecodeLimits{}, &expected).ok());
    EXPECT_EQ(*values[i], expected) << i;
  }
}

TEST(CompactRunTest, PageSequencesAndSealsTravelWithTheChanges) {
  RunContents contents{MixedLog(), {}, {}};
  for (size_t i = 0; i < contents.changes.size(); ++i) {
    contents.seqs.push_back(1000 + 3 * i);
    contents.seals.push_back(std::string(16, static_cast<char>('a' + i % 26)));
  }
  RunContents back = MustDecode(EncodeCompactRun(contents));
  EXPECT_EQ(back.changes, contents.changes);
  EXPECT_EQ(back.seqs, contents.seqs);
  EXPECT_EQ(back.seals, contents.seals);
}

TEST(CompactRunTest, BytesEncodeChangeWouldNotWriteTravelAsTheyAre) {
  std::vector<std::string> log = MixedLog();
  log.insert(log.begin() + 3, "not a change at all");
  log.insert(log.begin() + 10, log[9] + "x");  // a trailing byte
  log.insert(log.begin() + 20, "");
  RunContents contents{log, {}, {}};
  std::vector<std::optional<Change>> values;
  RunContents back = MustDecode(EncodeCompactRun(contents), &values);
  EXPECT_EQ(MustDecode(EncodeCompactRun(contents)).changes, log);
  EXPECT_FALSE(values[3]);
  EXPECT_EQ(back.changes[3], "not a change at all");
  EXPECT_FALSE(values[10]);
  EXPECT_EQ(back.changes[10], log[10]);
  EXPECT_FALSE(values[20]);
  EXPECT_TRUE(values[21]);
}

// `bytes` as EncodeChange would not write them (an empty base origin set, not left unset):
// they decode to the same change.
std::string NotAsEncodeChangeWrites(const std::string& bytes) {
  kj::ArrayInputStream input(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()));
  capnp::PackedMessageReader reader(input);
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<wire::Change>());
  builder.getRoot<wire::Change>().setBaseOrigin("");
  kj::VectorOutputStream output;
  capnp::writePackedMessage(output, builder);
  auto array = output.getArray();
  return std::string(reinterpret_cast<const char*>(array.begin()), array.size());
}

TEST(CompactRunTest, ARunToAReceiverOfValuesCarriesValuesNotStoredBytes) {
  std::vector<std::string> log = MixedLog();
  log[5] = NotAsEncodeChangeWrites(log[5]);
  Change stored;
  ASSERT_TRUE(DecodeChange(log[5], DecodeLimits{}, &stored).ok());
  ASSERT_NE(EncodeChange(stored), log[5]);
  log.insert(log.begin() + 9, "not a change at all");
  RunContents contents{log, {}, {}};

  std::vector<std::optional<Change>> exact_values, values;
  RunContents exact = MustDecode(EncodeCompactRun(contents), &exact_values);
  EXPECT_FALSE(exact_values[5]) << "exact bytes: travels as stored";
  std::string run = EncodeCompactRun(contents, nullptr, RunFidelity::kValues);
  RunContents back = MustDecode(run, &values);
  ASSERT_TRUE(values[5]);
  EXPECT_EQ(*values[5], stored);
  EXPECT_FALSE(values[9]);
  EXPECT_EQ(back.changes[9], "not a change at all") << "what does not decode still travels";
  RunContents rebuilt = MustDecode(run);
  EXPECT_EQ(rebuilt.changes[5], EncodeChange(stored));
  for (size_t i = 0; i < log.size(); ++i) {
    if (i == 5) continue;
    EXPECT_EQ(rebuilt.changes[i], log[i]) << i;
  }
}

// A sender of the same changes to many peers checks each once; the run is the same either way.
TEST(CompactRunTest, ACacheOfChangesSeenBeforeChangesNothingInTheRun) {
  std::vector<std::string> log = MixedLog();
  log.insert(log.begin() + 5, "not a change at all");
  RunContents contents{log, {}, {}};
  std::string plain = EncodeCompactRun(contents);
  RebuildCache all, last_eight(8);
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(EncodeCompactRun(contents, &all), plain) << pass;
    EXPECT_EQ(EncodeCompactRun(contents, &last_eight), plain) << pass;
  }
  ASSERT_NE(all.Find(log[0]), nullptr);
  EXPECT_TRUE(*all.Find(log[0]));
  ASSERT_NE(all.Find(log[5]), nullptr);
  EXPECT_FALSE(*all.Find(log[5])) << "kept as not rebuildable";
  EXPECT_EQ(last_eight.Find(log[0]), nullptr) << "the oldest dropped";
  EXPECT_NE(last_eight.Find(log.back()), nullptr);
}

// Packed bytes whose segment table claims 8 GiB: checked under the receivers' limits, they
// travel as they are, and nothing is allocated for the claim.
TEST(CompactRunTest, AChangeClaimingAHugeSegmentTravelsAsItIs) {
  const std::string huge("\x80\x40\x00\x00", 4);  // one segment of 2^30 words
  RunContents contents{{EncodeChange(Participant(1, 4)), huge}, {}, {}};
  std::vector<std::optional<Change>> values;
  RunContents back = MustDecode(EncodeCompactRun(contents), &values);
  EXPECT_EQ(back.changes[1], huge);
  EXPECT_FALSE(values[1]);
}

TEST(CompactRunTest, EveryCutOfARunIsRefused) {
  std::string run = EncodeCompactRun({MixedLog(), {}, {}});
  size_t end = run.size();
  while (end > 0 && run[end - 1] == '\0') --end;  // the padding
  for (size_t size = 0; size < end; ++size) {
    RunContents out;
    Status status =
        DecodeCompactRun(std::string_view(run).substr(0, size), 100000, DecodeLimits{}, &out);
    EXPECT_FALSE(status.ok()) << "cut at " << size;
    EXPECT_NE(status.ToString().find("compact run"), std::string::npos) << status.ToString();
  }
}

// Every byte changed in turn: each run either decodes to changes that DecodeChange accepts, or is
// refused with a reason.
TEST(CompactRunTest, AlteredBytesAreRefusedOrDecodeToValidChanges) {
  std::string run = EncodeCompactRun({MixedLog(), {}, {}});
  for (size_t at = 0; at < run.size(); ++at) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::string altered = run;
      altered[at] = static_cast<char>(altered[at] ^ flip);
      RunContents out;
      std::vector<std::optional<Change>> values;
      Status status = DecodeCompactRun(altered, 100000, DecodeLimits{}, &out, &values);
      if (!status.ok()) {
        EXPECT_FALSE(status.ToString().empty());
        continue;
      }
      for (const std::optional<Change>& value : values) {
        if (!value) continue;
        Change again;
        EXPECT_TRUE(DecodeChange(EncodeChange(*value), DecodeLimits{}, &again).ok())
            << "byte " << at;
      }
    }
  }
}

// `run` with the first `from` in it replaced by `to`, of the same size.
std::string Patched(std::string run, const std::string& from, const std::string& to) {
  size_t at = run.find(from);
  EXPECT_NE(at, std::string::npos) << "nothing to patch";
  if (at != std::string::npos) run.replace(at, from.size(), to);
  return run;
}

Status DecodeOne(const std::string& run, const DecodeLimits& limits = {}) {
  RunContents out;
  return DecodeCompactRun(run, 100000, limits, &out);
}

// A change DecodeChange would refuse cannot be encoded in compact form (it travels as its bytes),
// so these runs are altered by hand: the same checks refuse them, naming the change.
TEST(CompactRunTest, ChangesTheChecksRefuseAreRefusedWithTheirPlace) {
  Change two("participants", "MAS-P1", "MAS", 1, 5, 0, true,
             {{"aa", 1.5}, {"bb", std::string("x")}});
  std::string run =
      EncodeCompactRun({{EncodeChange(Participant(1, 4)), EncodeChange(two)}, {}, {}});
  ASSERT_TRUE(DecodeOne(run).ok());
  double nan = std::nan("");
  std::string nan_bytes(reinterpret_cast<const char*>(&nan), 8);
  double one_and_half = 1.5;
  std::string one_and_half_bytes(reinterpret_cast<const char*>(&one_and_half), 8);
  struct Case {
    std::string run;
    DecodeLimits limits;
    std::string reason;
  };
  // The kinds column (two rebuilt), the stored one (empty), the flags (the second deleted).
  const std::string kFlagsOfTwo("\x02\x00\x00\x00\x02\x00", 6);
  DecodeLimits few_fields;
  few_fields.max_fields = 2;
  DecodeLimits short_texts;
  short_texts.max_text = 5;
  for (const Case& c : {
           Case{Patched(run,
                        "\x02"
                        "aa",
                        "\x02"
                        "cc"),
                {},
                "not sorted or not unique"},
           Case{Patched(run, one_and_half_bytes, nan_bytes), {}, "float that is not finite"},
           Case{Patched(run, kFlagsOfTwo + "\x01", kFlagsOfTwo + "\x03"),
                {},
                "erasure that is not a delete without fields"},
           Case{run, few_fields, "too many fields"},
           Case{run, short_texts, "text longer than 5 bytes"},
       }) {
    Status status = DecodeOne(c.run, c.limits);
    ASSERT_FALSE(status.ok()) << c.reason;
    EXPECT_NE(status.ToString().find(c.reason), std::string::npos) << status.ToString();
    if (c.reason != "text longer than 5 bytes") {  // the names table, before any change
      EXPECT_NE(status.ToString().find("of 2"), std::string::npos) << status.ToString();
    }
  }
}

// Counts are believed only as far as the bytes back them; a kind of change this build does not
// know is refused, not read as another.
TEST(CompactRunTest, ClaimsTheBytesDoNotBackAreRefused) {
  std::string many_names("\x01\x01\x00\x00\x80\x89\x7a", 7);  // 2,000,000 names
  Status status = DecodeOne(many_names);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("more names than bytes"), std::string::npos)
      << status.ToString();
  std::string run = EncodeCompactRun({{EncodeChange(Participant(1, 4))}, {}, {}});
  const std::string kKindsOfOne("\x01\x00\x00\x01", 4);  // kinds (rebuilt), stored, flags
  status = DecodeOne(Patched(run, kKindsOfOne, std::string("\x01\x07\x00\x01", 4)));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("unknown kind"), std::string::npos) << status.ToString();
}

TEST(CompactRunTest, MoreChangesThanTheLimitAreRefused) {
  RunContents out;
  Status status =
      DecodeCompactRun(EncodeCompactRun({MixedLog(), {}, {}}), 10, DecodeLimits{}, &out);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("more than 10 changes"), std::string::npos) << status.ToString();
}

std::vector<std::string> GeneratedLog(int count) {
  std::vector<std::string> log;
  uint64_t stamp = uint64_t{1'735'689'600'000} << 16;
  for (int n = 1; n <= count; ++n) log.push_back(EncodeChange(Participant(n, stamp += 65536)));
  return log;
}

TEST(CompactRunTest, ACompactPushIsSmallerThanItsChangeRun) {
  Push push{1, GeneratedLog(2000), {}};
  RunHistory compact_history, change_run_history;
  size_t compact = EncodeMessage(push, {.history = &compact_history}).size();
  size_t change_run =
      EncodeMessage(push, {.history = &change_run_history, .form = RunForm::kChangeRun}).size();
  EXPECT_LT(compact * 2, change_run) << compact << " vs " << change_run;
}

// The connection is cut after push 2 leaves: push 3, compressed against bytes the receiver never
// got, is refused; the next connection starts both histories afresh and resends 2 and 3 whole.
TEST(CompactRunTest, ACutInTheMiddleOfTheStreamLosesNothing) {
  std::vector<std::string> log = GeneratedLog(300);
  auto push = [&](int n) {
    return Push{static_cast<uint64_t>(100 * n + 1),
                {log.begin() + 100 * n, log.begin() + 100 * (n + 1)},
                {}};
  };
  RunHistory sender, receiver;
  Message message;
  ASSERT_TRUE(DecodeFrame(EncodeMessage(push(0), {.history = &sender}), &message, &receiver).ok());
  EncodeMessage(push(1), {.history = &sender});  // lost with the connection
  Status refused = DecodeFrame(EncodeMessage(push(2), {.history = &sender}), &message, &receiver);
  EXPECT_FALSE(refused.ok());
  RunHistory new_sender, new_receiver;
  std::vector<std::string> received = std::get<Push>(message).changes;
  for (int n : {1, 2}) {
    ASSERT_TRUE(
        DecodeFrame(EncodeMessage(push(n), {.history = &new_sender}), &message, &new_receiver)
            .ok());
    const auto& changes = std::get<Push>(message).changes;
    received.insert(received.end(), changes.begin(), changes.end());
  }
  EXPECT_EQ(received, log);
}

}  // namespace
}  // namespace osrc::protocol
