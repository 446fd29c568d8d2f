#include "node/link_session.h"

#include <algorithm>
#include <array>

#include "storage/hlc.h"
#include "storage/merge.h"

namespace osrc::node {
namespace {

using State = LinkSession::State;
using Event = LinkSession::Event;

constexpr size_t kMaxChangesPerPush = 20000;
constexpr uint64_t kHeadCheckMs = 50;
constexpr int kStates = 8;
constexpr int kEvents = 10;

// The state table of the header; kIdle marks a pair it does not allow (no event leads to kIdle).
// Down leads to kBackoff here; LinkSession turns it into kFailed when not reconnecting.
constexpr State X = State::kIdle;
constexpr State C = State::kConnecting;
constexpr State H = State::kHelloSent;
constexpr State S = State::kSyncing;
constexpr State I = State::kInStep;
constexpr State B = State::kBackoff;
constexpr std::array<std::array<State, kEvents - 1>, kStates> kNext = {{
    // Start Connected Secured Welcome Reply CaughtUp Behind Down Retry
    {C, X, X, X, X, X, X, X, X},  // kIdle
    {X, C, H, X, X, X, X, B, X},  // kConnecting
    {X, X, X, S, X, X, X, B, X},  // kHelloSent
    {X, X, X, S, S, I, X, B, X},  // kSyncing
    {X, X, X, I, I, X, S, B, X},  // kInStep
    {X, X, X, X, X, X, X, X, C},  // kBackoff
    {X, X, X, X, X, X, X, X, X},  // kFailed
    {X, X, X, X, X, X, X, X, X},  // kStopped
}};

uint64_t Elapsed(uint64_t since, uint64_t now) { return now > since ? now - since : 0; }

}  // namespace

const char* LinkSession::StateName(State state) {
  switch (state) {
    case State::kIdle:
      return "idle";
    case State::kConnecting:
      return "connecting";
    case State::kHelloSent:
      return "connecting";
    case State::kSyncing:
      return "syncing";
    case State::kInStep:
      return "in step";
    case State::kBackoff:
      return "backoff";
    case State::kFailed:
      return "failed";
    case State::kStopped:
      return "stopped";
  }
  return "?";
}

LinkSession::LinkSession(const protocol::LinkOptions& options, LinkIdentity identity,
                         LinkStore& store, bool reconnect, uint64_t seed)
    : options_(options),
      identity_(std::move(identity)),
      store_(store),
      reconnect_(reconnect),
      random_(seed),
      tuning_(options),
      backoff_ms_(options.reconnect_min_ms) {}

bool LinkSession::Transition(Event event, bool reconnect_anyway) {
  if (event == Event::kStop) {
    state_ = State::kStopped;
    return true;
  }
  State next = kNext[static_cast<int>(state_)][static_cast<int>(event)];
  if (next == State::kIdle) return false;
  if (next == State::kBackoff && !reconnect_ && !reconnect_anyway) next = State::kFailed;
  state_ = next;
  return true;
}

protocol::Hello LinkSession::MakeHello(const LinkStore::Position& position, uint64_t now) const {
  protocol::Hello hello;
  hello.version = protocol::kProtocolVersion;
  hello.site = identity_.site;
  hello.schema_hash = identity_.schema_hash;
  hello.log_head = position.log_head;
  hello.hub_cursor = position.cursor;
  hello.epoch = position.epoch;
  hello.clock = storage::StampOf(now);
  hello.deliver_bytes = tuning_.deliver_bytes();
  hello.merge_version = storage::kMergeVersion;
  hello.oldest_unsent = position.oldest_unsent;
  hello.link_rate = static_cast<uint32_t>(std::min<double>(tuning_.rate(), UINT32_MAX));
  hello.round_trip_ms =
      static_cast<uint32_t>(std::min<uint64_t>(tuning_.round_trip_ms(), UINT32_MAX));
  hello.deliver_window = tuning_.deliver_window();
  return hello;
}

void LinkSession::ResetConnection(uint64_t now) {
  pushed_early_ = false;
  sent_ = {};
  in_flight_.clear();
  connect_started_ms_ = now;
  tcp_connected_ = false;
  hello_sent_ms_ = 0;
  hello_outstanding_ = false;
  last_heard_ms_ = now;
  last_acked_ms_ = 0;
  head_checked_ms_ = 0;
  deliver_expected_ = false;
  deliver_asked_bytes_ = 0;
  deliver_asks_.clear();
  received_raw_ = 0;
  last_delivered_ms_ = 0;
  last_page_hub_head_ = 0;
  owed_ = false;
  reoffer_outstanding_ = 0;
  acked_wire_ = 0;
  progressed_ = false;
  welcomed_ = false;
}

LinkEffects LinkSession::Start(uint64_t now) {
  LinkEffects effects;
  if (!Transition(Event::kStart)) return effects;
  ResetConnection(now);
  store_.Report("connecting", "", now);
  effects.open = true;
  return effects;
}

LinkEffects LinkSession::OnConnected(uint64_t now) {
  if (Transition(Event::kConnected)) {
    tcp_connected_ = true;
    last_heard_ms_ = now;
  }
  return {};
}

LinkEffects LinkSession::OnSecured(uint64_t now) {
  LinkEffects effects;
  if (!Transition(Event::kSecured)) return effects;
  last_heard_ms_ = now;
  LinkStore::Position position = SendHello(now, &effects);
  if (may_push_early_ && position.clock_trusted && position.log_head > position.acked) {
    pushed_early_ = true;
    head_ = position.log_head;
    acked_ = position.acked;
    next_ = acked_ + 1;
    head_checked_ms_ = now;
    SendPushes(now, &effects);
  }
  return effects;
}

LinkStore::Position LinkSession::SendHello(uint64_t now, LinkEffects* effects) {
  LinkStore::Position position = store_.Read();
  protocol::Hello hello = MakeHello(position, now);
  hello_sent_ms_ = now;
  hello_outstanding_ = true;
  deliver_asked_bytes_ = hello.deliver_bytes;
  AskDeliver({received_raw_, now, hub_head_, hello.deliver_bytes, hello.deliver_window});
  Emit(protocol::EncodeMessage(hello), effects);
  return position;
}

LinkEffects LinkSession::OnMessage(const protocol::Message& message, size_t frame_bytes,
                                   uint64_t now) {
  LinkEffects effects;
  if (!connected()) return effects;  // a frame of a connection already given up
  last_heard_ms_ = now;
  if (auto* error = std::get_if<protocol::ErrorReply>(&message)) {
    // Early pushes refused as stamped ahead: the Welcome has now taught this site to correct
    // them. Connect again, even for a one-shot sync, without pushing before the Welcome.
    bool refused_early = error->code == ErrorCode::kClockSkew && pushed_early_;
    if (refused_early) may_push_early_ = false;
    LinkEffects down = Down({error->code, "hub refused: " + error->message, identity_.endpoint},
                            now, refused_early);
    down.log.insert(down.log.begin(),
                    {LinkEffects::Level::kWarn, "hub refused: " + error->message + " (" +
                                                    std::string(ErrorCodeName(error->code)) + ")"});
    return down;
  }
  bool welcome = std::holds_alternative<protocol::Welcome>(message);
  if (!Transition(welcome ? Event::kWelcome : Event::kReply)) {
    return Down(
        {ErrorCode::kBadMessage,
         "unexpected " + std::string(protocol::MessageName(message)) + " from the hub " +
             (state_ == State::kConnecting ? "before the secure connection" : "before its Welcome"),
         identity_.endpoint},
        now);
  }
  Status status;
  if (auto* w = std::get_if<protocol::Welcome>(&message)) {
    status = OnWelcome(*w, now, &effects);
  } else if (auto* ack = std::get_if<protocol::Ack>(&message)) {
    status = OnAck(*ack, now, &effects);
  } else if (auto* deliver = std::get_if<protocol::Deliver>(&message)) {
    status = OnDeliver(*deliver, frame_bytes, now, &effects);
  } else if (auto* reoffer_ack = std::get_if<protocol::ReofferAck>(&message)) {
    status = OnReofferAck(*reoffer_ack, &effects);
  } else {
    status = {ErrorCode::kBadMessage,
              "unexpected " + std::string(protocol::MessageName(message)) + " from the hub"};
  }
  if (!status.ok()) {
    return Down(status.where().empty() ? status.WithContext(identity_.endpoint) : status, now);
  }
  Pump(now, &effects);
  UpdateInStep(now, &effects);
  return effects;
}

Status LinkSession::OnWelcome(const protocol::Welcome& welcome, uint64_t now,
                              LinkEffects* effects) {
  uint64_t round_trip_ms = Elapsed(hello_sent_ms_, now);
  tuning_.OnRoundTrip(round_trip_ms);
  LinkStore::Welcomed outcome;
  uint64_t sent_through = welcomed_ || in_flight_.empty() ? 0 : in_flight_.back().last;
  OSRC_RETURN_IF_ERROR(
      store_.ApplyWelcome(welcome, /*live=*/true, round_trip_ms, sent_through, &outcome));
  hello_outstanding_ = false;
  if (welcomed_) {  // the answer to a keep-alive: the pushes in flight stay in flight
    acked_ = std::max(acked_, outcome.acked);
    hub_head_ = std::max(hub_head_, welcome.hub_head);
    deliver_expected_ = cursor_ < hub_head_;
    return {};
  }
  welcomed_ = true;
  // What the last lost connection got through: pushes it saw acknowledged and those the hub
  // committed but could not acknowledge before the link went.
  if (!lost_in_flight_.empty()) {
    uint64_t through = lost_through_wire_;
    for (const InFlight& push : lost_in_flight_) {
      if (push.last <= outcome.acked) {
        through += push.wire_bytes;
        progressed_ = true;
      }
    }
    tuning_.OnConnectionLost(through);
    lost_in_flight_.clear();
    lost_through_wire_ = 0;
  }
  if (lost_deliver_) {
    tuning_.OnDeliverLost(lost_deliver_bytes_);
    lost_deliver_ = false;
  }
  head_ = outcome.head;
  acked_ = outcome.acked;
  cursor_ = outcome.cursor;
  // Pushes sent with the Hello go on if they start where the hub stands; otherwise pushing
  // restarts there, and the hub answers them with gaps or repeats.
  if (in_flight_.empty() || in_flight_.front().first != acked_ + 1) {
    in_flight_.clear();
    next_ = acked_ + 1;
  }
  hub_head_ = welcome.hub_head;
  deliver_expected_ = cursor_ < hub_head_;
  head_checked_ms_ = now;
  owed_ = outcome.owed;
  effects->log.push_back({LinkEffects::Level::kInfo,
                          "connected: log head " + std::to_string(head_) + ", hub acknowledged " +
                              std::to_string(acked_) + ", cursor " + std::to_string(cursor_) +
                              " of " + std::to_string(hub_head_)});
  if (owed_) SendReoffer(effects);
  return {};
}

protocol::Push LinkSession::ReadPush(uint64_t first, uint64_t head, size_t max_bytes) {
  protocol::Push push;
  push.first = first;
  push.changes = store_.ReadLog(first, std::min(head, first + kMaxChangesPerPush - 1), max_bytes);
  return push;
}

void LinkSession::Pump(uint64_t now, LinkEffects* effects) {
  if (state_ == State::kSyncing || state_ == State::kInStep) SendPushes(now, effects);
}

void LinkSession::SendPushes(uint64_t now, LinkEffects* effects) {
  while (in_flight_.size() < static_cast<size_t>(tuning_.window()) && next_ <= head_) {
    protocol::Push push = ReadPush(next_, head_, tuning_.batch_bytes());
    size_t raw_bytes = 0;
    for (const std::string& change : push.changes) raw_bytes += change.size();
    uint64_t last = push.first + push.changes.size() - 1;
    int level = tuning_.compression_level(raw_bytes);
    std::string wire = protocol::EncodeMessage(push, {.history = &sent_, .level = level});
    in_flight_.push_back({push.first, last, now, wire.size(), raw_bytes});
    tuning_.OnPushSent(wire.size(), raw_bytes);
    effects->log.push_back(
        {LinkEffects::Level::kDebug, "push " + std::to_string(push.first) + ".." +
                                         std::to_string(last) + " (" + std::to_string(raw_bytes) +
                                         " bytes raw, " + std::to_string(wire.size()) +
                                         " on the wire, zstd level " + std::to_string(level) +
                                         ", window " + std::to_string(tuning_.window()) + ")"});
    Emit(std::move(wire), effects);
    next_ = last + 1;
  }
}

Status LinkSession::OnAck(const protocol::Ack& ack, uint64_t now, LinkEffects* effects) {
  if (ack.acked > head_) {
    return {ErrorCode::kBadMessage, "hub acknowledged " + std::to_string(ack.acked) +
                                        " beyond the log head " + std::to_string(head_)};
  }
  // Go-back-N, once per gap: later replies to the same gap find the resend already queued.
  uint64_t resume = std::max(ack.acked, acked_) + 1;
  if (ack.gap && (in_flight_.empty() || in_flight_.front().first != resume)) {
    effects->log.push_back(
        {LinkEffects::Level::kInfo,
         "hub holds up to " + std::to_string(ack.acked) + ": resending from there"});
    in_flight_.clear();
    next_ = resume;
  }
  if (!in_flight_.empty() && in_flight_.front().last <= ack.acked) {
    // The link was busy with these pushes since the first was sent or the previous ack came. One
    // sent after the previous ack came also waited a round trip for its ack: take that out (the
    // smallest round trip seen), or a first push over a long link reads as a slow link.
    uint64_t sent_ms = in_flight_.front().sent_ms;
    uint64_t busy_ms = Elapsed(std::max(sent_ms, last_acked_ms_), now);
    if (sent_ms >= last_acked_ms_ && busy_ms > tuning_.round_trip_ms()) {
      busy_ms -= tuning_.round_trip_ms();
    }
    uint64_t wire_bytes = 0;
    uint64_t raw_bytes = 0;
    while (!in_flight_.empty() && in_flight_.front().last <= ack.acked) {
      wire_bytes += in_flight_.front().wire_bytes;
      raw_bytes += in_flight_.front().raw_bytes;
      in_flight_.pop_front();
    }
    tuning_.OnPushAcked(wire_bytes, raw_bytes, busy_ms);
    acked_wire_ += wire_bytes;
    last_acked_ms_ = now;
  }
  if (ack.acked > acked_) {
    acked_ = ack.acked;
    progressed_ = true;
    store_.SaveAcked(acked_);
  }
  if (next_ <= acked_) next_ = acked_ + 1;
  return {};
}

Status LinkSession::OnDeliver(const protocol::Deliver& deliver, size_t frame_bytes, uint64_t now,
                              LinkEffects* effects) {
  if (deliver.first > cursor_ + 1) {
    return {ErrorCode::kBadMessage, "hub delivered from sequence " + std::to_string(deliver.first) +
                                        " but this site has applied only up to " +
                                        std::to_string(cursor_)};
  }
  uint64_t raw_bytes = 0;
  for (const std::string& change : deliver.changes) raw_bytes += change.size();
  tuning_.OnDelivered(frame_bytes, raw_bytes, DeliverOnWireMs(deliver, now));
  OSRC_RETURN_IF_ERROR(store_.ApplyDeliver(deliver, &cursor_));
  if (!deliver.changes.empty()) progressed_ = true;
  received_raw_ += raw_bytes;
  last_delivered_ms_ = now;
  last_page_hub_head_ = deliver.hub_head;
  hub_head_ = std::max(hub_head_, deliver.hub_head);
  deliver_expected_ = cursor_ < hub_head_;
  deliver_asked_bytes_ = tuning_.deliver_bytes();
  uint32_t window = tuning_.deliver_window();
  AskDeliver({received_raw_, now, hub_head_, deliver_asked_bytes_, window});
  Emit(protocol::EncodeMessage(protocol::CursorAck{cursor_, deliver_asked_bytes_, window}),
       effects);
  return {};
}

void LinkSession::Emit(std::string frame, LinkEffects* effects) {
  if (!send_ || effects->close || effects->open || !effects->frames.empty()) {
    effects->frames.push_back(std::move(frame));
    return;
  }
  send_(frame);
}

void LinkSession::AskDeliver(const DeliverAsk& ask) {
  // An ask after no new page lets nothing go earlier than the one before it: keep-alives in step
  // add none.
  if (!deliver_asks_.empty() && deliver_asks_.back().received_raw == ask.received_raw) return;
  deliver_asks_.push_back(ask);
}

uint64_t LinkSession::DeliverOnWireMs(const protocol::Deliver& deliver, uint64_t now) {
  uint64_t start = received_raw_;
  // The hub sends a page while those unacknowledged and one more fit the window (or when none
  // is unacknowledged): the first ask after which this one did let it go.
  auto lets_go = [start](const DeliverAsk& ask) {
    return ask.received_raw >= start ||
           start + ask.page_bytes <= ask.received_raw + ask.window_bytes;
  };
  while (deliver_asks_.size() > 1 && !lets_go(deliver_asks_.front())) deliver_asks_.pop_front();
  if (deliver_asks_.empty() || !lets_go(deliver_asks_.front())) return 0;
  const DeliverAsk& ask = deliver_asks_.front();
  // Known only if the hub held the page's entries when it could send it; else it may have
  // waited for them.
  if (std::max(ask.hub_head, last_page_hub_head_) < deliver.first) return 0;
  uint64_t could_arrive = std::max(last_delivered_ms_, ask.sent_ms + tuning_.round_trip_ms());
  return now > could_arrive ? now - could_arrive : 0;
}

void LinkSession::SendReoffer(LinkEffects* effects) {
  std::optional<protocol::Reoffer> reoffer = store_.NextReoffer(tuning_.batch_bytes());
  owed_ = reoffer.has_value();
  if (!owed_) return;
  reoffer_outstanding_ = reoffer->token;
  effects->log.push_back(
      {LinkEffects::Level::kInfo, "handing back " + std::to_string(reoffer->changes.size()) +
                                      " hub changes received before the hub's restore"});
  Emit(protocol::EncodeMessage(*reoffer), effects);
}

Status LinkSession::OnReofferAck(const protocol::ReofferAck& ack, LinkEffects* effects) {
  if (ack.token == 0 || ack.token != reoffer_outstanding_) {
    return {ErrorCode::kBadMessage, "hub acknowledged a hand-back that was not sent"};
  }
  store_.DropReoffered(ack.token);
  reoffer_outstanding_ = 0;
  progressed_ = true;
  // What the hub took back it logged again: wait for it to be delivered.
  hub_head_ = std::max(hub_head_, ack.hub_head);
  deliver_expected_ = cursor_ < hub_head_;
  SendReoffer(effects);
  return {};
}

bool LinkSession::CaughtUp() const {
  return !hello_outstanding_ && in_flight_.empty() && acked_ >= head_ && cursor_ >= hub_head_ &&
         !deliver_expected_ && !owed_ && reoffer_outstanding_ == 0;
}

void LinkSession::UpdateInStep(uint64_t now, LinkEffects* effects) {
  if (state_ == State::kSyncing && CaughtUp()) {
    Transition(Event::kCaughtUp);
    reached_in_step_ = true;
    backoff_ms_ = options_.reconnect_min_ms;
    store_.Report("in step", "", now);
    effects->log.push_back(
        {LinkEffects::Level::kInfo, "in step: acknowledged " + std::to_string(acked_) +
                                        ", hub cursor " + std::to_string(cursor_)});
  } else if (state_ == State::kInStep && !CaughtUp() && !hello_outstanding_) {
    Transition(Event::kBehind);
    store_.Report("syncing", "", now);
  }
}

Status LinkSession::CheckDeadlines(uint64_t now) const {
  const std::string& endpoint = identity_.endpoint;
  auto timeout = static_cast<uint64_t>(options_.heartbeat_timeout_ms);
  if (state_ == State::kConnecting) {
    // The secure set-up takes several round trips (ZMTP greeting, CURVE handshake): over a 2G
    // link more than the heartbeat timeout, so once TCP is up it gets the request timeout.
    uint64_t limit =
        tcp_connected_ ? std::max(timeout, uint64_t(options_.request_timeout_ms)) : timeout;
    if (Elapsed(connect_started_ms_, now) <= limit) return {};
    return {ErrorCode::kTimeout,
            (tcp_connected_ ? "no secure connection to the hub within "
                            : "no answer from the hub within ") +
                std::to_string(limit) + " ms",
            endpoint};
  }
  if (hello_outstanding_ && Elapsed(hello_sent_ms_, now) > timeout) {
    return {ErrorCode::kTimeout, "no answer from the hub within " + std::to_string(timeout) + " ms",
            endpoint};
  }
  // A push queued behind others waits for them on a slow link: its clock starts when it was
  // sent or when the push before it was acknowledged, whichever is later.
  if (!in_flight_.empty() && Elapsed(std::max(in_flight_.front().sent_ms, last_acked_ms_), now) >
                                 static_cast<uint64_t>(options_.request_timeout_ms)) {
    return {ErrorCode::kTimeout,
            "push unacknowledged for " + std::to_string(options_.request_timeout_ms) + " ms",
            endpoint};
  }
  return {};
}

LinkEffects LinkSession::OnTick(uint64_t now) {
  LinkEffects effects;
  if (state_ == State::kBackoff && now >= retry_at_ && Transition(Event::kRetry)) {
    ResetConnection(now);
    store_.Report("connecting", "", now);
    effects.open = true;
  }
  if (!connected() || effects.open) return effects;
  if (Status deadline = CheckDeadlines(now); !deadline.ok()) return Down(deadline, now);
  if (state_ != State::kSyncing && state_ != State::kInStep) return effects;
  if (head_stale_ || Elapsed(head_checked_ms_, now) >= kHeadCheckMs) {
    head_stale_ = false;
    head_checked_ms_ = now;
    head_ = std::max(head_, store_.LogHead());
  }
  Pump(now, &effects);
  UpdateInStep(now, &effects);
  // One keep-alive Hello at a time: resending it every tick while the Welcome is on its way
  // would flood a slow link and keep its answer deadline from ever passing.
  if (state_ == State::kInStep && !hello_outstanding_ &&
      Elapsed(last_heard_ms_, now) > static_cast<uint64_t>(options_.heartbeat_ms)) {
    SendHello(now, &effects);
  }
  return effects;
}

LinkEffects LinkSession::OnFailure(const Status& failure, uint64_t now) {
  return connected() ? Down(failure, now) : LinkEffects{};
}

LinkEffects LinkSession::Down(const Status& failure, uint64_t now, bool reconnect_anyway) {
  LinkEffects effects;
  effects.close = true;
  failure_ = failure;
  if (!in_flight_.empty()) {
    lost_in_flight_.assign(in_flight_.begin(), in_flight_.end());
    lost_through_wire_ = acked_wire_;
  }
  if (deliver_expected_ && deliver_asked_bytes_ > 0) {
    lost_deliver_ = true;
    lost_deliver_bytes_ = deliver_asked_bytes_;
  }
  // Any progress shows the link works: retry soon. Otherwise back off further.
  if (progressed_) backoff_ms_ = options_.reconnect_min_ms;
  Transition(Event::kDown, reconnect_anyway);
  in_flight_.clear();
  if (state_ == State::kBackoff) {
    // Full jitter in [backoff/2, backoff].
    int wait_ms = backoff_ms_ / 2 + static_cast<int>(random_() % (backoff_ms_ / 2 + 1));
    retry_at_ = now + static_cast<uint64_t>(wait_ms);
    backoff_ms_ = std::min(options_.reconnect_max_ms, backoff_ms_ * 2);
    store_.Report("backoff " + std::to_string(wait_ms) + " ms", failure.ToString(), now);
    effects.log.push_back(
        {LinkEffects::Level::kWarn,
         "link down: " + failure.ToString() + "; retrying in " + std::to_string(wait_ms) + " ms"});
  } else {
    bool refused =
        failure.code() == ErrorCode::kNotEnrolled || failure.code() == ErrorCode::kBadMessage ||
        failure.code() == ErrorCode::kVersion || failure.code() == ErrorCode::kSchemaMismatch ||
        failure.code() == ErrorCode::kForbidden || failure.code() == ErrorCode::kHandshake;
    store_.Report(refused ? "refused" : "disconnected", failure.ToString(), now);
  }
  return effects;
}

LinkEffects LinkSession::Stop(uint64_t now) {
  LinkEffects effects;
  effects.close = connected();
  if (state_ == State::kSyncing || state_ == State::kInStep) {
    effects.farewell = protocol::EncodeMessage(protocol::Bye{});
  }
  if (state_ != State::kStopped) {
    Transition(Event::kStop);
    store_.Report("stopped", "", now);
  }
  return effects;
}

Status LinkSession::ImportReply(const std::vector<protocol::Message>& messages, size_t* delivered) {
  if (messages.size() < 2 || messages.size() > 3 ||
      !std::holds_alternative<protocol::Welcome>(messages[0]) ||
      !std::holds_alternative<protocol::Deliver>(messages[1]) ||
      (messages.size() == 3 && !std::holds_alternative<protocol::ReofferAck>(messages[2]))) {
    return {ErrorCode::kBadBundle, "a reply holds a Welcome, a Deliver and maybe a ReofferAck"};
  }
  LinkStore::Welcomed outcome;
  OSRC_RETURN_IF_ERROR(store_.ApplyWelcome(std::get<protocol::Welcome>(messages[0]),
                                           /*live=*/false, 0, 0, &outcome));
  const auto& deliver = std::get<protocol::Deliver>(messages[1]);
  OSRC_RETURN_IF_ERROR(store_.ApplyDeliver(deliver, &cursor_));
  if (messages.size() == 3) store_.DropReoffered(std::get<protocol::ReofferAck>(messages[2]).token);
  acked_ = outcome.acked;
  *delivered = deliver.changes.size();
  return {};
}

std::vector<protocol::Message> LinkSession::BundleMessages(uint64_t now, size_t max_reoffer_bytes) {
  std::vector<protocol::Message> messages;
  LinkStore::Position position = store_.Read();
  messages.emplace_back(MakeHello(position, now));
  for (uint64_t first = position.acked + 1; first <= position.log_head;) {
    protocol::Push push = ReadPush(first, position.log_head, SIZE_MAX);
    first += push.changes.size();
    messages.emplace_back(std::move(push));
  }
  if (auto reoffer = store_.NextReoffer(max_reoffer_bytes)) messages.emplace_back(*reoffer);
  return messages;
}

}  // namespace osrc::node
