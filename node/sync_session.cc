#include "node/sync_session.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "node/hub_replies.h"
#include "node/link_state.h"
#include "node/reoffer.h"
#include "protocol/link_options.h"
#include "protocol/socket.h"
#include "storage/hlc.h"

namespace osrc::node {
namespace {

constexpr int kPollMs = 50;
constexpr int kSetUpPollMs = 5;  // While the secure connection is made: the Hello waits for it.
constexpr size_t kMaxChangesPerPush = 20000;

// Time from `since` to `now`; 0 if `since` is later (read after `now`).
uint64_t Elapsed(uint64_t since, uint64_t now) { return now > since ? now - since : 0; }

std::string MonitorEndpoint() {
  static std::atomic<int> next{0};
  return "inproc://osrc.node.monitor." + std::to_string(next++);
}

}  // namespace

SyncSession::SyncSession(Node& node, zmq::context_t& context, spdlog::logger& log,
                         LinkTuning& tuning)
    : node_(node),
      log_(log),
      options_(node.config().link),
      socket_(protocol::MakeDealer(context, node.keys(), node.config().hub_public_key,
                                   node.config().link)),
      monitor_(socket_, MonitorEndpoint()),
      tuning_(tuning) {
  limits_.max_frame_bytes = options_.max_message_bytes;
}

bool SyncSession::SendBytes(std::string_view bytes) { return protocol::SendFrame(socket_, bytes); }

void SyncSession::Send(const protocol::Message& message) {
  if (!SendBytes(protocol::EncodeMessage(message))) {
    SPDLOG_LOGGER_DEBUG(&log_, "{} not sent: link not ready", protocol::MessageName(message));
  }
}

void SyncSession::SendHello() {
  storage::Store& store = node_.store();
  protocol::Hello hello;
  {
    storage::ReadTxn txn(store.env());
    hello.log_head = store.LogHead(txn);
    hello.hub_cursor = store.GetMetaU64(txn, storage::kMetaCursor);
    hello.epoch = std::string(store.GetMeta(txn, storage::kMetaEpoch).value_or(""));
    hello.clock = storage::StampOf(node_.clock().NowMillis());
  }
  hello.version = protocol::kProtocolVersion;
  hello.site = node_.config().site;
  hello.schema_hash = node_.schema().hash();
  hello.deliver_bytes = tuning_.deliver_bytes();
  hello_sent_ms_ = NowMs();
  deliver_asked_ms_ = hello_sent_ms_;
  hello_outstanding_ = true;
  Send(hello);
}

void SyncSession::Report(const std::string& state, const std::string& error) {
  storage::WriteTxn txn(node_.store().env());
  WriteLinkState(node_.store(), txn, state, error, NowMs());
  txn.Commit();
}

Status SyncSession::Fail(const Status& status) {
  if (!in_flight_.empty()) tuning_.OnLostWithPushesInFlight();
  Report(status.code() == ErrorCode::kNotEnrolled ? "refused" : "disconnected", status.ToString());
  return status;
}

Status SyncSession::CheckSetUp(uint64_t now) {
  const std::string& endpoint = node_.config().hub_endpoint;
  if (hello_outstanding_) {
    if (Elapsed(hello_sent_ms_, now) <= static_cast<uint64_t>(options_.heartbeat_timeout_ms)) {
      return {};
    }
    return {ErrorCode::kTimeout,
            "no answer from the hub within " + std::to_string(options_.heartbeat_timeout_ms) +
                " ms",
            endpoint};
  }
  if (hello_sent_ms_ != 0) return {};
  // Setting up the secure connection takes several round trips (ZMTP greeting, CURVE
  // handshake): over a high-latency link (2G, 1 s one way) more than the heartbeat timeout, so
  // once TCP is connected it gets request_timeout_ms; a hub not reachable at all fails after
  // heartbeat_timeout_ms.
  bool connected = monitor_.connected();
  int limit_ms = connected ? std::max(options_.heartbeat_timeout_ms, options_.request_timeout_ms)
                           : options_.heartbeat_timeout_ms;
  if (Elapsed(started_ms_, now) <= static_cast<uint64_t>(limit_ms)) return {};
  return {ErrorCode::kTimeout,
          (connected ? "no secure connection to the hub within " : "no answer from the hub within ") +
              std::to_string(limit_ms) + " ms",
          endpoint};
}

bool SyncSession::InStep() const {
  return state_ == State::kSyncing && in_flight_.empty() && acked_ >= head_ &&
         cursor_ >= hub_head_ && !deliver_expected_ && !owed_;
}

Status SyncSession::Run(const std::function<bool()>& should_stop, bool until_in_step) {
  const std::string& endpoint = node_.config().hub_endpoint;
  if (endpoint.empty() || node_.config().hub_public_key.empty()) {
    return {ErrorCode::kBadInput, "no hub endpoint or hub key in node.toml",
            node_.dir() + "/node.toml"};
  }
  try {
    socket_.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return {ErrorCode::kBadInput, std::string("cannot connect: ") + e.what(), endpoint};
  }
  Report("connecting", "");
  started_ms_ = NowMs();
  last_heard_ms_ = started_ms_;
  uint64_t next_check_ms = 0;
  bool reported_in_step = false;
  while (!should_stop()) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(hello_sent_ms_ == 0 ? kSetUpPollMs : kPollMs));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
    }
    while (auto frame = protocol::ReceiveFrame(socket_)) {
      last_heard_ms_ = NowMs();
      protocol::Message message;
      Status status = protocol::DecodeMessage(
          {static_cast<const uint8_t*>(frame->data()), frame->size()}, limits_, &message);
      if (status.ok()) status = OnMessage(message, frame->size());
      if (!status.ok()) {
        Report("refused", status.ToString());
        return status;
      }
    }
    monitor_.Poll();
    if (monitor_.failure().code() == ErrorCode::kNotEnrolled) {
      Status refused(ErrorCode::kNotEnrolled,
                     monitor_.failure().what() + "; enrol it at the hub with: osrc-hub enrol --site " +
                         node_.config().site + " --key " + node_.keys().public_key,
                     node_.config().hub_endpoint);
      log_.warn("{}", refused.what());
      return Fail(refused);
    }
    if (!monitor_.failure().ok()) return Fail(monitor_.failure());
    uint64_t now = NowMs();
    // The Hello goes once the secure connection is up: its clock reading is then fresh, and its
    // answer measures a round trip of the link.
    if (hello_sent_ms_ == 0 && monitor_.handshake_done()) SendHello();
    if (Status set_up = CheckSetUp(now); !set_up.ok()) return Fail(set_up);
    // A push queued behind others in the window waits for them on a slow link: its clock starts
    // when it was sent or when the push before it was acknowledged, whichever is later.
    if (!in_flight_.empty() &&
        Elapsed(std::max(in_flight_.front().sent_ms, last_acked_ms_), now) >
            static_cast<uint64_t>(options_.request_timeout_ms)) {
      return Fail(Status(ErrorCode::kTimeout,
                         "push unacknowledged for " +
                             std::to_string(options_.request_timeout_ms) + " ms",
                         endpoint));
    }
    if (state_ == State::kSyncing && now >= next_check_ms) {
      next_check_ms = now + 250;
      storage::ReadTxn txn(node_.store().env());
      head_ = node_.store().LogHead(txn);
    }
    if (state_ == State::kSyncing) Pump();
    if (InStep()) {
      reached_in_step_ = true;
      if (!reported_in_step) {
        Report("in step", "");
        reported_in_step = true;
        log_.info("in step: acknowledged {}, hub cursor {}", acked_, cursor_);
      }
      if (until_in_step) return {};
      // One keep-alive Hello at a time: resending it every poll while the Welcome is on its
      // way would flood a slow link and keep its answer deadline from ever passing.
      if (!hello_outstanding_ &&
          Elapsed(last_heard_ms_, now) > static_cast<uint64_t>(options_.heartbeat_ms)) {
        SendHello();
      }
    } else if (reported_in_step) {
      reported_in_step = false;
      Report("syncing", "");
    }
  }
  Report("stopped", "");
  return {};
}

Status SyncSession::OnMessage(const protocol::Message& message, size_t frame_bytes) {
  if (auto* welcome = std::get_if<protocol::Welcome>(&message)) return OnWelcome(*welcome);
  if (auto* ack = std::get_if<protocol::Ack>(&message)) return OnAck(*ack);
  if (auto* deliver = std::get_if<protocol::Deliver>(&message)) {
    return OnDeliver(*deliver, frame_bytes);
  }
  if (auto* ack = std::get_if<protocol::ReofferAck>(&message)) return OnReofferAck(*ack);
  if (auto* error = std::get_if<protocol::ErrorReply>(&message)) {
    log_.warn("hub refused: {} ({})", error->message, ErrorCodeName(error->code));
    return {error->code, "hub refused: " + error->message};
  }
  return {ErrorCode::kBadMessage,
          "unexpected " + std::string(protocol::MessageName(message)) + " from the hub"};
}

Status SyncSession::OnWelcome(const protocol::Welcome& welcome) {
  uint64_t round_trip_ms = Elapsed(hello_sent_ms_, NowMs());
  tuning_.OnRoundTrip(round_trip_ms);
  WelcomeOutcome outcome;
  {
    storage::WriteTxn txn(node_.store().env());
    OSRC_RETURN_IF_ERROR(
        ApplyWelcome(node_, txn, welcome, /*live=*/true, round_trip_ms, log_, &outcome));
    txn.Commit();
  }
  head_ = outcome.head;
  acked_ = outcome.acked;
  cursor_ = outcome.cursor;
  next_ = acked_ + 1;
  hub_head_ = welcome.hub_head;
  in_flight_.clear();
  deliver_expected_ = cursor_ < hub_head_;
  hello_outstanding_ = false;
  reoffer_outstanding_ = 0;
  SendReoffer();  // if anything is owed
  if (state_ == State::kConnecting) {
    log_.info("connected: log head {}, hub acknowledged {}, cursor {} of {}", head_, acked_,
              cursor_, hub_head_);
  }
  state_ = State::kSyncing;
  return {};
}

void SyncSession::Pump() {
  while (in_flight_.size() < static_cast<size_t>(tuning_.window()) && next_ <= head_) {
    protocol::Push push;
    push.first = next_;
    size_t bytes = 0;
    {
      storage::ReadTxn txn(node_.store().env());
      for (uint64_t seq = next_; seq <= head_ && push.changes.size() < kMaxChangesPerPush; ++seq) {
        auto entry = node_.store().GetLog(txn, seq);
        if (!entry) throw Error(ErrorCode::kCorruption, "change log lacks " + std::to_string(seq));
        push.changes.emplace_back(*entry);
        bytes += entry->size();
        if (bytes >= tuning_.batch_bytes()) break;
      }
    }
    uint64_t last = push.first + push.changes.size() - 1;
    std::string wire = protocol::EncodeMessage(push);
    SendBytes(wire);
    in_flight_.push_back({push.first, last, NowMs(), wire.size(), bytes});
    SPDLOG_LOGGER_DEBUG(&log_, "push {}..{} ({} bytes raw, {} on the wire, window {})", push.first,
                        last, bytes, wire.size(), tuning_.window());
    next_ = last + 1;
  }
}

Status SyncSession::OnAck(const protocol::Ack& ack) {
  if (ack.gap) {
    // Go-back-N, once per gap: later replies to the same gap find the resend already queued.
    if (in_flight_.empty() || in_flight_.front().first != ack.acked + 1) {
      log_.info("hub holds up to {}: resending from there", ack.acked);
      in_flight_.clear();
      next_ = ack.acked + 1;
    }
  }
  if (ack.acked > head_) return {ErrorCode::kBadMessage, "hub acknowledged beyond the log head"};
  uint64_t now = NowMs();
  if (!in_flight_.empty() && in_flight_.front().last <= ack.acked) {
    // The link was busy with these pushes since the first was sent or the previous ack came.
    uint64_t busy_ms = Elapsed(std::max(in_flight_.front().sent_ms, last_acked_ms_), now);
    uint64_t wire_bytes = 0;
    uint64_t raw_bytes = 0;
    while (!in_flight_.empty() && in_flight_.front().last <= ack.acked) {
      wire_bytes += in_flight_.front().wire_bytes;
      raw_bytes += in_flight_.front().raw_bytes;
      in_flight_.pop_front();
    }
    tuning_.OnPushAcked(wire_bytes, raw_bytes, busy_ms);
    last_acked_ms_ = now;
  }
  if (ack.acked > acked_) {
    acked_ = ack.acked;
    storage::WriteTxn txn(node_.store().env());
    node_.store().PutMetaU64(txn, storage::kMetaAcked, acked_);
    txn.Commit();
  }
  if (next_ <= acked_) next_ = acked_ + 1;
  return {};
}

void SyncSession::SendReoffer() {
  std::optional<protocol::Reoffer> reoffer;
  {
    storage::ReadTxn txn(node_.store().env());
    reoffer = NextReoffer(node_.store(), txn, tuning_.batch_bytes());
  }
  owed_ = reoffer.has_value();
  if (!owed_) return;
  reoffer_outstanding_ = reoffer->token;
  log_.info("handing back {} hub changes received before the hub's restore",
            reoffer->changes.size());
  Send(*reoffer);
}

Status SyncSession::OnReofferAck(const protocol::ReofferAck& ack) {
  if (ack.token != reoffer_outstanding_) {
    return {ErrorCode::kBadMessage, "hub acknowledged a hand-back that was not sent"};
  }
  {
    storage::WriteTxn txn(node_.store().env());
    DropReoffered(node_.store(), txn, ack.token);
    txn.Commit();
  }
  reoffer_outstanding_ = 0;
  // What the hub took back it logged again: wait for it to be delivered.
  hub_head_ = std::max(hub_head_, ack.hub_head);
  deliver_expected_ = cursor_ < hub_head_;
  SendReoffer();
  return {};
}

Status SyncSession::OnDeliver(const protocol::Deliver& deliver, size_t frame_bytes) {
  uint64_t raw_bytes = 0;
  for (const std::string& change : deliver.changes) raw_bytes += change.size();
  tuning_.OnDelivered(frame_bytes, raw_bytes, Elapsed(deliver_asked_ms_, NowMs()));
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(node_.store().env(), [&] {
    storage::WriteTxn txn(node_.store().env());
    Status status = ApplyDeliver(node_, txn, deliver, log_, &cursor_);
    if (status.ok()) txn.Commit();
    return status;
  }));
  hub_head_ = std::max(hub_head_, deliver.hub_head);
  deliver_expected_ = cursor_ < hub_head_;
  deliver_asked_ms_ = NowMs();
  Send(protocol::CursorAck{cursor_, tuning_.deliver_bytes()});
  return {};
}

}  // namespace osrc::node
