// Tests of protocol/capnp_reader.h and protocol/kj_log.h: untrusted bytes give a bad-message
// status, never an exception and never a line on stderr; kj's log lines go where a daemon says.
#include "protocol/capnp_reader.h"

#include <gtest/gtest.h>
#include <kj/debug.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "protocol/change.h"
#include "protocol/kj_log.h"
#include "protocol/sync.capnp.h"

namespace osrc::protocol {
namespace {

std::vector<uint8_t> OneWord() { return std::vector<uint8_t>(8, 0); }

// What kj logs during a failed read (by default a line and a stack trace on stderr) joins the
// error instead.
TEST(CapnpReaderTest, WhatKjLogsJoinsTheStatusNotStderr) {
  for (bool packed : {false, true}) {
    auto read = [](capnp::MessageReader&) -> Status {
      KJ_LOG(ERROR, "premature end of input");
      KJ_FAIL_REQUIRE("out-of-bounds pointer");
      return {};
    };
    std::vector<uint8_t> bytes = OneWord();
    ::testing::internal::CaptureStderr();
    Status status = packed ? ReadUntrustedPacked(bytes, 1024, 8, "change", read)
                           : ReadUntrusted(bytes, 1024, 8, "message", read);
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "") << (packed ? "packed" : "flat");
    EXPECT_EQ(status.code(), ErrorCode::kBadMessage);
    EXPECT_NE(status.what().find("out-of-bounds pointer"), std::string::npos) << status.what();
    EXPECT_NE(status.what().find("premature end of input"), std::string::npos) << status.what();
    EXPECT_EQ(status.what().find('\n'), std::string::npos) << "one line: " << status.what();
  }
}

TEST(CapnpReaderTest, LogLinesDuringARead) {
  std::vector<uint8_t> bytes = OneWord();
  ::testing::internal::CaptureStderr();
  Status status = ReadUntrusted(bytes, 1024, 8, "message", [](capnp::MessageReader&) -> Status {
    KJ_LOG(WARNING, "something odd");
    return {};
  });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST(CapnpReaderTest, TruncatedPackedMessageIsABadMessage) {
  // Two segments announced (1 and 100 words); only the first arrives.
  std::vector<uint8_t> raw = {1, 0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0,
                              0, 0, 0, 0, 2, 0, 0, 0, 1,   0, 0, 0};
  // Packed encoding: each word is a tag byte (which bytes are non-zero) and those bytes.
  std::vector<uint8_t> packed;
  for (size_t word = 0; word < raw.size(); word += 8) {
    uint8_t tag = 0;
    std::vector<uint8_t> nonzero;
    for (int i = 0; i < 8; ++i) {
      if (raw[word + i] != 0) {
        tag |= uint8_t(1 << i);
        nonzero.push_back(raw[word + i]);
      }
    }
    packed.push_back(tag);
    packed.insert(packed.end(), nonzero.begin(), nonzero.end());
    if (tag == 0) packed.push_back(0);  // no run of further zero words
  }
  ::testing::internal::CaptureStderr();
  Status status = ReadUntrustedPacked(packed, 1024, 8, "change", [](capnp::MessageReader& r) {
    return r.getRoot<capnp::AnyPointer>().targetSize().wordCount > 0
               ? Status()
               : Status(ErrorCode::kBadMessage, "empty");
  });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(status.code(), ErrorCode::kBadMessage) << status.ToString();
}

// Packed reads unpack into the thread's scratch words; a read inside another's callback must not
// overwrite the outer message while it is still being read.
TEST(CapnpReaderTest, APackedReadInsideAnotherLeavesTheOuterMessageIntact) {
  auto packed = [](const std::string& id) {
    std::string bytes = EncodeChange(Change{"participants", id, "MAS", 1, 2, 0, false, {}});
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  };
  std::vector<uint8_t> outer = packed("MAS-OUTER"), inner = packed("MAS-INNER");
  std::vector<std::string> ids;
  std::function<Status(capnp::MessageReader&)> read = [&](capnp::MessageReader& reader) {
    auto change = reader.getRoot<wire::Change>();
    if (ids.empty()) {
      ids.emplace_back();  // the outer's place
      Status nested = ReadUntrustedPacked(inner, 1024, 8, "change", read);
      if (!nested.ok()) return nested;
      ids[0] = change.getId().cStr();
    } else {
      ids.emplace_back(change.getId().cStr());
    }
    return Status();
  };
  ASSERT_TRUE(ReadUntrustedPacked(outer, 1024, 8, "change", read).ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"MAS-OUTER", "MAS-INNER"}));
}

TEST(KjLogRouteTest, KjLinesGoToTheSinkNotStderr) {
  std::vector<std::string> lines;
  ::testing::internal::CaptureStderr();
  {
    KjLogRoute route([&](std::string_view line) { lines.emplace_back(line); });
    KJ_LOG(WARNING, "odd message");
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("odd message"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace osrc::protocol
