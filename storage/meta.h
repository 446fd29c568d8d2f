// The names in a store's meta database, each with its value grammar: the one place they are
// declared. be64 is a big-endian fixed 64-bit integer (Store::PutMetaU64); a name absent reads
// as its stated default.
#pragma once

#include <string_view>

namespace osrc::storage {

// Both kinds of store.
inline constexpr std::string_view kMetaFormat = "format";  // be64 store format; absent: 1
inline constexpr std::string_view kMetaKind = "kind";      // "node" or "hub"
inline constexpr std::string_view kMetaOrigin = "origin";  // site code or hub id
inline constexpr std::string_view kMetaClock = "clock";    // be64 highest stamp issued or seen
inline constexpr std::string_view kMetaFeed = "feed";      // "1": merges write the feed (hub)
// The next record key the feed's start has to list (Store::OpenFeed); absent: all listed.
inline constexpr std::string_view kMetaFeedFrom = "feed_from";
inline constexpr std::string_view kMetaEpoch = "epoch";  // hub epoch (node: last seen); bytes
// Erased records: kMetaErasedPrefix collection 0x00 id -> be64 stamp of the erasure order.
inline constexpr std::string_view kMetaErasedPrefix = "erased:";
// Present ("") from an erasure until the store is compacted (storage/compact.h).
inline constexpr std::string_view kMetaCompactPending = "compact_pending";

// Node stores.
inline constexpr std::string_view kMetaClockOffset = "clock_offset";  // be64 (int64) ms to hub
inline constexpr std::string_view kMetaMaxSkew = "max_skew";  // be64 ms the hub allowed; 0: never
// be64 highest stamp above kMetaClock that a clock correction left on changes already pushed
// (storage/restamp.h); 0: none; absent: unknown (a store from before it).
inline constexpr std::string_view kMetaStampsAhead = "stamps_ahead";
inline constexpr std::string_view kMetaAcked = "acked";                // be64 own seq the hub holds
inline constexpr std::string_view kMetaCursor = "cursor";              // be64 hub seq applied
inline constexpr std::string_view kMetaLastContact = "last_contact";   // be64 hub clock, Unix ms
inline constexpr std::string_view kMetaRefVersion = "ref_version";     // be64 hub seq
inline constexpr std::string_view kMetaBundleSeq = "bundle_seq";       // be64 last bundle exported
inline constexpr std::string_view kMetaReplySeq = "reply_seq";         // be64 last reply imported
inline constexpr std::string_view kMetaLinkState = "link_state";       // text, e.g. "in step"
inline constexpr std::string_view kMetaLastError = "last_error";       // text of the last failure
inline constexpr std::string_view kMetaLastErrorAt = "last_error_at";  // be64 Unix ms
// Hub: be64, moved on by every enrolment, key change and revocation.
inline constexpr std::string_view kMetaEnrolment = "enrolment";
inline constexpr std::string_view kMetaErasedByHub =
    "erased_by_hub";                                                // be64 erasure orders applied
inline constexpr std::string_view kMetaLastErased = "last_erased";  // text collection/id

}  // namespace osrc::storage
