#include "protocol/messages.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "protocol/capnp_reader.h"
#include "protocol/compact_run.h"
#include "protocol/run_history.h"
#include "protocol/seal.h"
#include "protocol/sync.capnp.h"

namespace osrc::protocol {
namespace {

std::string BytesOf(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
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

// A Deliver page's sequences and seals, carried inside its run.
struct PageIndex {
  const std::vector<uint64_t>* seqs = nullptr;
  const std::vector<std::string>* seals = nullptr;
};

std::string ChangeRunBytes(const std::vector<std::string>& changes, PageIndex index) {
  capnp::MallocMessageBuilder builder;
  auto run = builder.initRoot<wire::ChangeRun>();
  SetDataList(run.initChanges(changes.size()), changes);
  if (index.seqs != nullptr) {
    auto seqs = run.initSeqs(index.seqs->size());
    for (size_t i = 0; i < index.seqs->size(); ++i) seqs.set(i, (*index.seqs)[i]);
  }
  if (index.seals != nullptr && !index.seals->empty()) {
    std::string seals;
    for (const std::string& seal : *index.seals) seals += seal;
    run.setSeals(DataPtr(seals));
  }
  return BytesOf(builder);
}

std::string CompactRunBytes(const std::vector<std::string>& changes, PageIndex index,
                            RebuildCache* cache, RunFidelity fidelity) {
  std::span<const uint64_t> seqs;
  std::span<const std::string> seals;
  if (index.seqs != nullptr) seqs = *index.seqs;
  if (index.seals != nullptr) seals = *index.seals;
  return EncodeCompactRun(changes, seqs, seals, cache, fidelity);
}

// `changes` (and `index`, if given) as a run in `form`, compressed at `level` (against `history`
// if given) into `out`.
template <typename Builder>
void SetRun(const std::vector<std::string>& changes, const RunCoding& coding, Builder out,
            PageIndex index = {}, RunFidelity fidelity = RunFidelity::kExactBytes) {
  std::string raw = coding.form == RunForm::kCompact
                        ? CompactRunBytes(changes, index, coding.cache, fidelity)
                        : ChangeRunBytes(changes, index);
  if (coding.form == RunForm::kCompact) out.setCompact(true);
  if (coding.history != nullptr) {
    out.setChained(true);
    out.setCarried(coding.history->carried());
  }
  std::string compressed = CompressRun(raw, coding.history, coding.level);
  out.setRawSize(static_cast<uint32_t>(raw.size()));
  out.setCompressed(DataPtr(compressed));
}

// A Deliver page's sequences and seals, which come in its change run or beside it, never both.
Status TakePageFields(std::vector<uint64_t> seqs, std::vector<std::string> seals,
                      Deliver* deliver) {
  if (seqs.empty() && seals.empty()) return {};
  if (deliver == nullptr || !deliver->seqs.empty() || !deliver->seals.empty()) {
    return {ErrorCode::kBadMessage, "sequences or seals both in a change run and beside it"};
  }
  deliver->seqs = std::move(seqs);
  deliver->seals = std::move(seals);
  return {};
}

// Reads a run's changes into `out`, and into `deliver` (if given) any sequences and seals the run
// carries.
template <typename Reader>
Status ReadRun(Reader in, const MessageLimits& limits, RunHistory* history,
               std::vector<std::string>* out, Deliver* deliver = nullptr,
               std::vector<std::optional<Change>>* values = nullptr) {
  auto compressed = in.getCompressed();
  RunFrame frame{
      {compressed.begin(), compressed.size()}, in.getRawSize(), in.getChained(), in.getCarried()};
  kj::Array<capnp::word> words;
  OSRC_RETURN_IF_ERROR(DecompressRun(frame, limits.max_raw_bytes, history, &words));
  if (in.getCompact()) {
    auto bytes = words.asChars();
    RunContents contents;
    OSRC_RETURN_IF_ERROR(DecodeCompactRun({bytes.begin(), bytes.size()}, limits.max_changes,
                                          limits.change, &contents, values));
    *out = std::move(contents.changes);
    return TakePageFields(std::move(contents.seqs), std::move(contents.seals), deliver);
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = limits.traversal_words;
  options.nestingLimit = limits.nesting;
  capnp::FlatArrayMessageReader reader(words.asPtr(), options);
  auto run = reader.getRoot<wire::ChangeRun>();
  auto changes = run.getChanges();
  if (changes.size() > limits.max_changes) return {ErrorCode::kBadMessage, "too many changes"};
  *out = DataListOf(changes);
  auto seals = run.getSeals();
  if (seals.size() > 0 && seals.size() != changes.size() * kSealBytes) {
    return {ErrorCode::kBadMessage, "deliver seal count does not match its changes"};
  }
  std::vector<uint64_t> seqs;
  for (uint64_t seq : run.getSeqs()) seqs.push_back(seq);
  std::vector<std::string> seal_list;
  for (size_t at = 0; at < seals.size(); at += kSealBytes) {
    seal_list.emplace_back(reinterpret_cast<const char*>(seals.begin() + at), kSealBytes);
  }
  return TakePageFields(std::move(seqs), std::move(seal_list), deliver);
}

Status DecodeRoot(wire::Message::Reader root, const MessageLimits& limits, RunHistory* history,
                  PushChanges want, Message* out) {
  switch (root.which()) {
    case wire::Message::HELLO: {
      auto in = root.getHello();
      *out = Hello{in.getVersion(),       TextOf(in.getSite()), in.getSchemaHash(),
                   in.getLogHead(),       in.getHubCursor(),    in.getClock(),
                   DataOf(in.getEpoch()), in.getDeliverBytes(), in.getMergeVersion(),
                   in.getOldestUnsent(),  in.getLinkRate(),     in.getRoundTripMs(),
                   in.getDeliverWindow()};
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
      OSRC_RETURN_IF_ERROR(ReadRun(in, limits, history, &push.changes, nullptr,
                                   want == PushChanges::kValues ? &push.values : nullptr));
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
      deliver.seals = DataListOf(in.getSeals());
      if (!deliver.seqs.empty() || in.getRawSize() > 0) {
        OSRC_RETURN_IF_ERROR(ReadRun(in, limits, history, &deliver.changes, &deliver));
      }
      if (deliver.changes.size() != deliver.seqs.size()) {
        return {ErrorCode::kBadMessage, "deliver sequence count does not match its changes"};
      }
      if (!deliver.seals.empty() && deliver.seals.size() != deliver.changes.size()) {
        return {ErrorCode::kBadMessage, "deliver seal count does not match its changes"};
      }
      *out = std::move(deliver);
      return {};
    }
    case wire::Message::CURSOR_ACK: {
      auto ack = root.getCursorAck();
      *out = CursorAck{ack.getCursor(), ack.getDeliverBytes(), ack.getDeliverWindow()};
      return {};
    }
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

std::string EncodeMessage(const Message& message, const RunCoding& coding) {
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
    out.setDeliverWindow(m->deliver_window);
  } else if (auto* m = std::get_if<Welcome>(&message)) {
    auto out = root.initWelcome();
    out.setAcked(m->acked);
    out.setHubHead(m->hub_head);
    out.setHubClock(m->hub_clock);
    out.setEpoch(DataPtr(m->epoch));
    out.setMaxSkewMs(m->max_skew_ms);
  } else if (auto* m = std::get_if<Push>(&message)) {
    auto out = root.initPush();
    out.setFirst(m->first);
    out.setCount(static_cast<uint32_t>(m->changes.size()));
    SetRun(m->changes, coding, out, {}, RunFidelity::kValues);  // the hub takes values
  } else if (auto* m = std::get_if<Ack>(&message)) {
    auto out = root.initAck();
    out.setAcked(m->acked);
    out.setGap(m->gap);
  } else if (auto* m = std::get_if<Deliver>(&message)) {
    auto out = root.initDeliver();
    out.setFirst(m->first);
    out.setLast(m->last);
    out.setHubHead(m->hub_head);
    if (coding.history != nullptr && !m->changes.empty()) {
      SetRun(m->changes, coding, out, {&m->seqs, &m->seals});
    } else {
      auto seqs = out.initSeqs(m->seqs.size());
      for (size_t i = 0; i < m->seqs.size(); ++i) seqs.set(i, m->seqs[i]);
      if (!m->changes.empty()) SetRun(m->changes, coding, out);
      SetDataList(out.initSeals(m->seals.size()), m->seals);
    }
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
    out.setDeliverWindow(m->deliver_window);
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

Status DecodeMessage(std::span<const uint8_t> frame, const MessageLimits& limits, Message* out,
                     RunHistory* history, PushChanges want) {
  if (frame.size() > limits.max_frame_bytes) {
    return {ErrorCode::kBadMessage,
            "frame of " + std::to_string(frame.size()) + " bytes too large"};
  }
  return ReadUntrusted(
      frame, limits.traversal_words, limits.nesting, "message", [&](capnp::MessageReader& reader) {
        return DecodeRoot(reader.getRoot<wire::Message>(), limits, history, want, out);
      });
}

}  // namespace osrc::protocol
