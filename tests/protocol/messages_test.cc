// Tests of the message codec (protocol/messages.h): Hello and push round trips, pushes whose
// claimed raw size the zstd frame does not back, which are refused before anything is allocated
// for them, and Deliver pages that carry their sequences twice.
#include "protocol/messages.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "base/error.h"
#include "protocol/change.h"
#include "protocol/run_history.h"
#include "protocol/seal.h"
#include "protocol/sync.capnp.h"
#include "tests/support/decode_frame.h"
#include "tests/support/forged_push.h"

namespace osrc::protocol {
namespace {

using testing::DecodeFrame;

using testing::PushParts;
using testing::RawPush;

// An encoded push of three changes, split into its raw size and compressed run.
Push PushOf(uint64_t first, std::vector<std::string> changes) {
  Push push;
  push.first = first;
  push.changes = std::move(changes);
  return push;
}

class PushFrameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PushParts(EncodeMessage(push_, {.form = RunForm::kChangeRun}), &raw_size_, &compressed_);
  }

  // The same run compressed again into a frame that leaves its content size out.
  std::string CompressedWithoutContentSize() const {
    std::string raw(raw_size_, '\0');
    size_t size = ZSTD_decompress(raw.data(), raw.size(), compressed_.data(), compressed_.size());
    EXPECT_EQ(size, raw_size_);
    ZSTD_CCtx* context = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0);
    std::string out(ZSTD_compressBound(raw.size()), '\0');
    size = ZSTD_compress2(context, out.data(), out.size(), raw.data(), raw.size());
    ZSTD_freeCCtx(context);
    EXPECT_FALSE(ZSTD_isError(size));
    out.resize(size);
    EXPECT_EQ(ZSTD_getFrameContentSize(out.data(), out.size()), ZSTD_CONTENTSIZE_UNKNOWN);
    return out;
  }

  Push push_ = PushOf(7, {"first change", "second change", std::string(300, 'x')});
  uint32_t raw_size_ = 0;
  std::string compressed_;
};

TEST_F(PushFrameTest, PushRoundTrips) {
  Message message;
  ASSERT_TRUE(DecodeFrame(RawPush(7, 3, raw_size_, compressed_), &message).ok());
  ASSERT_TRUE(std::holds_alternative<Push>(message));
  EXPECT_EQ(std::get<Push>(message).first, 7u);
  EXPECT_EQ(std::get<Push>(message).changes, push_.changes);
}

TEST_F(PushFrameTest, RawSizeAboveTheFrameContentSizeIsRefusedNamingBoth) {
  Message message;
  uint32_t claim = raw_size_ + 8 * 1024;
  Status status = DecodeFrame(RawPush(7, 3, claim, compressed_), &message);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_EQ(status.what(), "change run size " + std::to_string(claim) +
                               " does not match its zstd frame content size " +
                               std::to_string(raw_size_));
}

TEST_F(PushFrameTest, RawSizeBelowTheFrameContentSizeIsRefused) {
  Message message;
  Status status = DecodeFrame(RawPush(7, 3, raw_size_ - 8, compressed_), &message);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_NE(status.what().find("zstd frame content size"), std::string::npos) << status.what();
}

TEST_F(PushFrameTest, FrameWithoutContentSizeIsRefused) {
  Message message;
  Status status = DecodeFrame(RawPush(7, 3, raw_size_, CompressedWithoutContentSize()), &message);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_EQ(status.what(), "change run is not a zstd frame that states its content size");
}

TEST_F(PushFrameTest, RunThatIsNotAZstdFrameIsRefused) {
  Message message;
  std::string corrupt = compressed_;
  corrupt[0] ^= 0x5a;  // the zstd magic number
  Status status = DecodeFrame(RawPush(7, 3, raw_size_, corrupt), &message);
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
  EXPECT_EQ(status.what(), "change run is not a zstd frame that states its content size");
}

TEST(HelloTest, HelloRoundTripsWithItsMergeVersion) {
  Hello hello{.version = 3,
              .site = "MAS",
              .schema_hash = 0x1234,
              .log_head = 42,
              .hub_cursor = 17,
              .clock = 99,
              .epoch = "epoch",
              .deliver_bytes = 4096,
              .merge_version = 2,
              .oldest_unsent = 0x123456789,
              .link_rate = 32000,
              .round_trip_ms = 612};
  Message message;
  ASSERT_TRUE(DecodeFrame(EncodeMessage(hello), &message).ok());
  ASSERT_TRUE(std::holds_alternative<Hello>(message));
  const Hello& out = std::get<Hello>(message);
  EXPECT_EQ(out.merge_version, 2u);
  EXPECT_EQ(out.site, "MAS");
  EXPECT_EQ(out.epoch, "epoch");
  EXPECT_EQ(out.deliver_bytes, 4096u);
  EXPECT_EQ(out.hub_cursor, 17u);
  EXPECT_EQ(out.oldest_unsent, 0x123456789u);
  EXPECT_EQ(out.link_rate, 32000u);
  EXPECT_EQ(out.round_trip_ms, 612u);
}

// A chained Deliver page carries its hub sequences and seals inside its compressed run; a page
// that also carries them beside the run says two things, and is refused whichever it meant.
TEST(DeliverTest, SequencesBothInTheRunAndBesideItAreRefused) {
  Deliver page;
  page.first = 1;
  page.last = 2;
  page.hub_head = 2;
  page.seqs = {1, 2};
  for (uint64_t seq : page.seqs) {
    page.changes.push_back(EncodeChange(Change{"countries",
                                               "PH" + std::to_string(seq),
                                               "HUB",
                                               seq,
                                               100 + seq,
                                               0,
                                               false,
                                               {{"name", std::string("Philippines")}}}));
  }
  page.seals.assign(2, std::string(kSealBytes, 's'));
  for (RunForm form : {RunForm::kChangeRun, RunForm::kCompact}) {
    RunHistory sent;
    std::string frame = EncodeMessage(page, {.history = &sent, .form = form});
    {
      RunHistory received;
      Message message;
      ASSERT_TRUE(DecodeFrame(frame, &message, &received).ok());
      EXPECT_EQ(std::get<Deliver>(message).seqs, page.seqs);
    }
    kj::ArrayPtr<const capnp::word> words(reinterpret_cast<const capnp::word*>(frame.data()),
                                          frame.size() / sizeof(capnp::word));
    capnp::FlatArrayMessageReader reader(words);
    capnp::MallocMessageBuilder builder;
    builder.setRoot(reader.getRoot<wire::Message>());
    auto beside = builder.getRoot<wire::Message>().getDeliver().initSeqs(2);
    beside.set(0, 1);
    beside.set(1, 2);
    auto flat = capnp::messageToFlatArray(builder);
    std::string both(flat.asChars().begin(), flat.asChars().size());
    RunHistory received;
    Message message;
    Status status = DecodeFrame(both, &message, &received);
    EXPECT_EQ(status.code(), ErrorCode::kBadMessage) << static_cast<int>(form);
    EXPECT_NE(status.what().find("both in a change run and beside it"), std::string::npos)
        << status.what();
  }
}

}  // namespace
}  // namespace osrc::protocol
