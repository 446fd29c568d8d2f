// Tests of change runs compressed against their connection's history (protocol/run_history.h):
// what a connection carried makes the next run smaller, and a run the receiver's history does not
// match (one lost on the way, a new connection, other bytes) is refused, never misread.
#include "protocol/run_history.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "protocol/messages.h"
#include "tests/support/decode_frame.h"

namespace osrc::protocol {
namespace {

using testing::DecodeFrame;

// A change-like run: the same field names and codes each time, a few values that differ.
std::string Change(int n) {
  return "participants|MAS-" + std::to_string(100000 + n) +
         ";given_name=Maria;family_name=Santos;municipality=Aroroy;sex="
         "female;destination_country=Saudi Arabia;migration_status=returned;seq" +
         std::to_string(n);
}

Push PushOf(int n) {
  Push push;
  push.first = static_cast<uint64_t>(n);
  push.changes = {Change(n)};
  return push;
}

TEST(RunHistoryTest, RunsOfAConnectionRoundTripAndShrinkWithWhatItCarried) {
  RunHistory sender, receiver;
  size_t first_size = 0, last_size = 0;
  for (int n = 1; n <= 20; ++n) {
    std::string frame = EncodeMessage(PushOf(n), {.history = &sender});
    if (n == 1) first_size = frame.size();
    last_size = frame.size();
    Message message;
    ASSERT_TRUE(DecodeFrame(frame, &message, &receiver).ok()) << n;
    ASSERT_EQ(std::get<Push>(message).changes, PushOf(n).changes) << n;
  }
  EXPECT_EQ(receiver.carried(), sender.carried());
  EXPECT_EQ(receiver.window(), sender.window());
  EXPECT_LT(last_size * 2, first_size) << "the 20th push should cost well under half the first";
}

TEST(RunHistoryTest, DeliverPagesAreChainedToo) {
  RunHistory sender, receiver;
  for (uint64_t page = 1; page <= 3; ++page) {
    Deliver deliver{page, page, 3, {page}, {Change(static_cast<int>(page))}, {}};
    Message message;
    ASSERT_TRUE(
        DecodeFrame(EncodeMessage(deliver, {.history = &sender}), &message, &receiver).ok());
    EXPECT_EQ(std::get<Deliver>(message).changes, deliver.changes);
  }
  EXPECT_GT(receiver.carried(), 0u);
  EXPECT_EQ(receiver.carried(), sender.carried());
}

// A chained page carries its sequences and seals inside its run: the sequences compress to
// almost nothing and the seals lose their list pointers.
TEST(RunHistoryTest, AChainedPageCarriesItsSequencesAndSealsInItsRun) {
  Deliver page{101, 400, 400, {}, {}, {}};
  for (int i = 0; i < 200; ++i) {
    page.seqs.push_back(101 + static_cast<uint64_t>(i) * 3 / 2);
    page.changes.push_back(Change(i));
    std::string seal(16, '\0');
    for (char& c : seal) c = static_cast<char>((i * 131 + (&c - seal.data()) * 71) % 251);
    page.seals.push_back(seal);
  }
  RunHistory sender, receiver;
  std::string chained = EncodeMessage(page, {.history = &sender});
  Message message;
  ASSERT_TRUE(DecodeFrame(chained, &message, &receiver).ok());
  const Deliver& out = std::get<Deliver>(message);
  EXPECT_EQ(out.seqs, page.seqs);
  EXPECT_EQ(out.seals, page.seals);
  EXPECT_EQ(out.changes, page.changes);
  std::string alone = EncodeMessage(page);
  EXPECT_LT(chained.size() + 200 * 16, alone.size())
      << "at least 16 bytes a change fewer than a self-contained page";
  ASSERT_TRUE(DecodeFrame(alone, &message, nullptr).ok());
  EXPECT_EQ(std::get<Deliver>(message).seals, page.seals);
}

TEST(RunHistoryTest, ARunAfterOneLostOnTheWayIsRefusedNamingBothPositions) {
  RunHistory sender, receiver;
  Message message;
  ASSERT_TRUE(
      DecodeFrame(EncodeMessage(PushOf(1), {.history = &sender}), &message, &receiver).ok());
  uint64_t carried_before_loss = receiver.carried();
  EncodeMessage(PushOf(2), {.history = &sender});  // lost: the connection was cut
  std::string third = EncodeMessage(PushOf(3), {.history = &sender});
  Status status = DecodeFrame(third, &message, &receiver);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_NE(status.what().find("which carried " + std::to_string(carried_before_loss)),
            std::string::npos)
      << status.what();
  EXPECT_EQ(receiver.carried(), carried_before_loss) << "a refused run is not taken into it";
}

TEST(RunHistoryTest, ANewConnectionStartsAfreshOnBothSides) {
  RunHistory old_sender;
  EncodeMessage(PushOf(1), {.history = &old_sender});
  // A run of the old connection reaching the new one's receiver is refused...
  RunHistory new_receiver;
  Message message;
  EXPECT_FALSE(
      DecodeFrame(EncodeMessage(PushOf(2), {.history = &old_sender}), &message, &new_receiver)
          .ok());
  // ...and the new connection's sender starts from nothing, which the receiver reads.
  RunHistory new_sender;
  ASSERT_TRUE(
      DecodeFrame(EncodeMessage(PushOf(2), {.history = &new_sender}), &message, &new_receiver)
          .ok());
  EXPECT_EQ(std::get<Push>(message).changes, PushOf(2).changes);
}

TEST(RunHistoryTest, AHistoryOfOtherBytesIsCaughtByTheFrameChecksum) {
  RunHistory sender, receiver;
  sender.Append(Change(1));
  std::string other = Change(1);
  for (char& c : other) c = static_cast<char>(c ^ 0x20);
  receiver.Append(other);  // as many bytes carried, not the same ones
  Message message;
  Status status = DecodeFrame(EncodeMessage(PushOf(2), {.history = &sender}), &message, &receiver);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_EQ(status.what(), "change run does not decompress to its stated size");
}

TEST(RunHistoryTest, AChainedRunWithoutAConnectionIsRefused) {
  RunHistory sender;
  Message message;
  Status status = DecodeFrame(EncodeMessage(PushOf(1), {.history = &sender}), &message, nullptr);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_EQ(status.what(), "change run compressed against a connection's history");
}

TEST(RunHistoryTest, SelfContainedRunsLeaveTheHistoryAlone) {
  RunHistory receiver;
  Message message;
  ASSERT_TRUE(DecodeFrame(EncodeMessage(PushOf(1)), &message, &receiver).ok());
  EXPECT_EQ(receiver.carried(), 0u);
}

TEST(RunHistoryTest, TheWindowKeepsTheLastBytesAndCountsThemAll) {
  RunHistory history;
  std::string block(1000, 'a');
  for (int i = 0; i < 100; ++i) {
    block[0] = static_cast<char>('0' + i % 10);
    history.Append(block);
  }
  EXPECT_EQ(history.carried(), 100000u);
  ASSERT_EQ(history.window().size(), kHistoryBytes);
  EXPECT_EQ(history.window().substr(kHistoryBytes - 1000), block);
  EXPECT_EQ(history.PrefixFor(100).size(), 16u * 1024) << "a small run: the last 16 KiB";
  EXPECT_EQ(history.PrefixFor(2000).size(), 32000u) << "16 times the run";
  EXPECT_EQ(history.PrefixFor(8000).size(), kHistoryBytes) << "at most the window";
  EXPECT_EQ(history.PrefixFor(100), history.window().substr(kHistoryBytes - 16 * 1024));
  history.Append(std::string(kHistoryBytes + 5, 'z'));
  EXPECT_EQ(history.window(), std::string(kHistoryBytes, 'z'));
}

// `count` changes as the raw bytes of a run: whole words.
std::string RawRun(int from, int count) {
  std::string raw;
  for (int n = from; n < from + count; ++n) raw += Change(n);
  raw.resize((raw.size() + 7) / 8 * 8, ' ');
  return raw;
}

// A thread's compressor is sized once: a run larger than any before, or a harder level, does not
// make zstd allocate (and fault in) its tables again. A harder level still compresses better.
TEST(RunHistoryTest, TheCompressorKeepsItsMemoryWhateverTheRunsAndLevels) {
  RunHistory sender;
  RunHistory receiver;
  CompressRun(RawRun(0, 1), nullptr);
  const size_t bytes = CompressorBytes();
  int from = 1;
  for (int level : {kDefaultRunLevel, 6, kHardestRunLevel}) {
    for (int count : {10, 100, 500, 1000}) {
      std::string raw = RawRun(from, count);
      from += count;
      uint64_t carried = sender.carried();
      std::string compressed = CompressRun(raw, &sender, level);
      EXPECT_EQ(CompressorBytes(), bytes) << "level " << level << ", " << raw.size() << " bytes";
      RunFrame frame{{reinterpret_cast<const uint8_t*>(compressed.data()), compressed.size()},
                     static_cast<uint32_t>(raw.size()),
                     true,
                     carried};
      kj::Array<capnp::word> back;
      ASSERT_TRUE(DecompressRun(frame, 1 << 20, &receiver, &back).ok());
      EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(back.begin()), raw.size()), raw);
    }
  }
  std::string same = RawRun(0, 1000);
  EXPECT_LT(CompressRun(same, nullptr, 6).size(),
            CompressRun(same, nullptr, kDefaultRunLevel).size());
}

}  // namespace
}  // namespace osrc::protocol
