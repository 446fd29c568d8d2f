#include "protocol/messages.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>
#include <zstd.h>

#include <cstring>

#include "protocol/capnp_reader.h"
#include "protocol/sync.capnp.h"

namespace osrc::protocol {
namespace {

constexpr int kZstdLevel = 3;

std::string BytesOf(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// A zstd-compressed ChangeRun of `changes`; `*raw_size` is its uncompressed size.
std::string CompressRun(const std::vector<std::string>& changes, uint32_t* raw_size) {
  capnp::MallocMessageBuilder builder;
  auto list = builder.initRoot<wire::ChangeRun>().initChanges(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    list.set(i,
             kj::arrayPtr(reinterpret_cast<const kj::byte*>(changes[i].data()), changes[i].size()));
  }
  std::string raw = BytesOf(builder);
  *raw_size = static_cast<uint32_t>(raw.size());
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t size = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(size)) throw Error(ErrorCode::kInternal, "zstd compression failed");
  out.resize(size);
  return out;
}

Status DecompressRun(capnp::Data::Reader compressed, uint32_t raw_size, const MessageLimits& limits,
                     std::vector<std::string>* out) {
  if (raw_size > limits.max_raw_bytes || raw_size % sizeof(capnp::word) != 0 || raw_size == 0) {
    return {ErrorCode::kBadMessage, "change run size " + std::to_string(raw_size) + " refused"};
  }
  // Believe a claimed size only when the frame states the same, before allocating for it.
  unsigned long long frame_size = ZSTD_getFrameContentSize(compressed.begin(), compressed.size());
  if (frame_size == ZSTD_CONTENTSIZE_UNKNOWN || frame_size == ZSTD_CONTENTSIZE_ERROR) {
    return {ErrorCode::kBadMessage, "change run is not a zstd frame that states its content size"};
  }
  if (frame_size != raw_size) {
    return {ErrorCode::kBadMessage, "change run size " + std::to_string(raw_size) +
                                        " does not match its zstd frame content size " +
                                        std::to_string(frame_size)};
  }
  auto words = kj::heapArray<capnp::word>(raw_size / sizeof(capnp::word));
  size_t size = ZSTD_decompress(words.begin(), raw_size, compressed.begin(), compressed.size());
  if (ZSTD_isError(size) || size != raw_size) {
    return {ErrorCode::kBadMessage, "change run does not decompress to its stated size"};
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = limits.traversal_words;
  options.nestingLimit = limits.nesting;
  capnp::FlatArrayMessageReader reader(words.asPtr(), options);
  auto changes = reader.getRoot<wire::ChangeRun>().getChanges();
  if (changes.size() > limits.max_changes) return {ErrorCode::kBadMessage, "too many changes"};
  out->clear();
  out->reserve(changes.size());
  for (auto change : changes) {
    out->emplace_back(reinterpret_cast<const char*>(change.begin()), change.size());
  }
  return {};
}

std::string TextOf(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }
std::string DataOf(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}
kj::ArrayPtr<const kj::byte> DataPtr(const std::string& s) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}
std::vector<std::string> DataListOf(capnp::List<capnp::Data>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto data : list) out.push_back(DataOf(data));
  return out;
}
void SetDataList(capnp::List<capnp::Data>::Builder list, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) list.set(i, DataPtr(values[i]));
}

Status DecodeRoot(wire::Message::Reader root, const MessageLimits& limits, Message* out) {
  switch (root.which()) {
    case wire::Message::HELLO: {
      auto in = root.getHello();
      *out = Hello{in.getVersion(),       TextOf(in.getSite()), in.getSchemaHash(),
                   in.getLogHead(),       in.getHubCursor(),    in.getClock(),
                   DataOf(in.getEpoch()), in.getDeliverBytes(), in.getMergeVersion(),
                   in.getOldestUnsent(),  in.getLinkRate(),     in.getRoundTripMs()};
      return {};
    }
    case wire::Message::WELCOME: {
      auto in = root.getWelcome();
      *out = Welcome{in.getAcked(), in.getHubHead(), in.getHubClock(), DataOf(in.getEpoch()),
                     in.getMaxSkewMs()};
      return {};
    }
    case wire::Message::PUSH: {
      auto in = root.getPush();
      Push push;
      push.first = in.getFirst();
      OSRC_RETURN_IF_ERROR(
          DecompressRun(in.getCompressed(), in.getRawSize(), limits, &push.changes));
      if (push.changes.size() != in.getCount() || push.changes.empty()) {
        return {ErrorCode::kBadMessage, "push count does not match its changes"};
      }
      *out = std::move(push);
      return {};
    }
    case wire::Message::ACK: {
      auto in = root.getAck();
      *out = Ack{in.getAcked(), in.getGap()};
      return {};
    }
    case wire::Message::DELIVER: {
      auto in = root.getDeliver();
      Deliver deliver;
      deliver.first = in.getFirst();
      deliver.last = in.getLast();
      deliver.hub_head = in.getHubHead();
      for (uint64_t seq : in.getSeqs()) deliver.seqs.push_back(seq);
      if (!deliver.seqs.empty()) {
        OSRC_RETURN_IF_ERROR(
            DecompressRun(in.getCompressed(), in.getRawSize(), limits, &deliver.changes));
      }
      if (deliver.changes.size() != deliver.seqs.size()) {
        return {ErrorCode::kBadMessage, "deliver sequence count does not match its changes"};
      }
      deliver.seals = DataListOf(in.getSeals());
      if (!deliver.seals.empty() && deliver.seals.size() != deliver.changes.size()) {
        return {ErrorCode::kBadMessage, "deliver seal count does not match its changes"};
      }
      *out = std::move(deliver);
      return {};
    }
    case wire::Message::CURSOR_ACK:
      *out = CursorAck{root.getCursorAck().getCursor(), root.getCursorAck().getDeliverBytes()};
      return {};
    case wire::Message::REOFFER: {
      auto in = root.getReoffer();
      Reoffer reoffer{in.getToken(), DataListOf(in.getChanges()), DataListOf(in.getSeals())};
      if (reoffer.changes.size() > limits.max_changes || reoffer.changes.empty() ||
          reoffer.changes.size() != reoffer.seals.size()) {
        return {ErrorCode::kBadMessage, "reoffer needs one seal per change, 1 to " +
                                            std::to_string(limits.max_changes) + " changes"};
      }
      *out = std::move(reoffer);
      return {};
    }
    case wire::Message::REOFFER_ACK:
      *out = ReofferAck{root.getReofferAck().getToken(), root.getReofferAck().getHubHead()};
      return {};
    case wire::Message::BYE:
      *out = Bye{};
      return {};
    case wire::Message::ERROR: {
      auto in = root.getError();
      *out = ErrorReply{static_cast<ErrorCode>(in.getCode()), TextOf(in.getMessage()),
                        in.getHubClock()};
      return {};
    }
  }
  return {ErrorCode::kBadMessage, "unknown message kind"};
}

}  // namespace

std::string_view MessageName(const Message& message) {
  static constexpr std::string_view kNames[] = {"Hello",      "Welcome",   "Push",  "Ack",
                                                "Deliver",    "CursorAck", "Error", "Reoffer",
                                                "ReofferAck", "Bye"};
  return kNames[message.index()];
}

std::string EncodeMessage(const Message& message) {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<wire::Message>();
  if (auto* m = std::get_if<Hello>(&message)) {
    auto out = root.initHello();
    out.setVersion(m->version);
    out.setSite(m->site);
    out.setSchemaHash(m->schema_hash);
    out.setLogHead(m->log_head);
    out.setHubCursor(m->hub_cursor);
    out.setClock(m->clock);
    out.setEpoch(DataPtr(m->epoch));
    out.setDeliverBytes(m->deliver_bytes);
    out.setMergeVersion(m->merge_version);
    out.setOldestUnsent(m->oldest_unsent);
    out.setLinkRate(m->link_rate);
    out.setRoundTripMs(m->round_trip_ms);
  } else if (auto* m = std::get_if<Welcome>(&message)) {
    auto out = root.initWelcome();
    out.setAcked(m->acked);
    out.setHubHead(m->hub_head);
    out.setHubClock(m->hub_clock);
    out.setEpoch(DataPtr(m->epoch));
    out.setMaxSkewMs(m->max_skew_ms);
  } else if (auto* m = std::get_if<Push>(&message)) {
    auto out = root.initPush();
    uint32_t raw_size = 0;
    std::string compressed = CompressRun(m->changes, &raw_size);
    out.setFirst(m->first);
    out.setCount(static_cast<uint32_t>(m->changes.size()));
    out.setRawSize(raw_size);
    out.setCompressed(DataPtr(compressed));
  } else if (auto* m = std::get_if<Ack>(&message)) {
    auto out = root.initAck();
    out.setAcked(m->acked);
    out.setGap(m->gap);
  } else if (auto* m = std::get_if<Deliver>(&message)) {
    auto out = root.initDeliver();
    out.setFirst(m->first);
    out.setLast(m->last);
    out.setHubHead(m->hub_head);
    auto seqs = out.initSeqs(m->seqs.size());
    for (size_t i = 0; i < m->seqs.size(); ++i) seqs.set(i, m->seqs[i]);
    if (!m->changes.empty()) {
      uint32_t raw_size = 0;
      std::string compressed = CompressRun(m->changes, &raw_size);
      out.setRawSize(raw_size);
      out.setCompressed(DataPtr(compressed));
    }
    SetDataList(out.initSeals(m->seals.size()), m->seals);
  } else if (auto* m = std::get_if<Reoffer>(&message)) {
    auto out = root.initReoffer();
    out.setToken(m->token);
    SetDataList(out.initChanges(m->changes.size()), m->changes);
    SetDataList(out.initSeals(m->seals.size()), m->seals);
  } else if (auto* m = std::get_if<ReofferAck>(&message)) {
    auto out = root.initReofferAck();
    out.setToken(m->token);
    out.setHubHead(m->hub_head);
  } else if (auto* m = std::get_if<CursorAck>(&message)) {
    auto out = root.initCursorAck();
    out.setCursor(m->cursor);
    out.setDeliverBytes(m->deliver_bytes);
  } else if (auto* m = std::get_if<ErrorReply>(&message)) {
    auto out = root.initError();
    out.setCode(static_cast<uint16_t>(m->code));
    out.setMessage(m->message);
    out.setHubClock(m->hub_clock);
  } else if (std::holds_alternative<Bye>(message)) {
    root.setBye();
  }
  return BytesOf(builder);
}

Status DecodeMessage(std::span<const uint8_t> frame, const MessageLimits& limits, Message* out) {
  if (frame.size() > limits.max_frame_bytes) {
    return {ErrorCode::kBadMessage,
            "frame of " + std::to_string(frame.size()) + " bytes too large"};
  }
  return ReadUntrusted(frame, limits.traversal_words, limits.nesting, "message",
                       [&](capnp::MessageReader& reader) {
                         return DecodeRoot(reader.getRoot<wire::Message>(), limits, out);
                       });
}

}  // namespace osrc::protocol
