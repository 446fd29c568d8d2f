#include "hub/site_session.h"

#include <algorithm>
#include <cstdlib>

#include "protocol/link_options.h"
#include "storage/hlc.h"

namespace osrc::hub {
namespace {

// A bundle's reply carries everything pending in one page.
constexpr size_t kBundlePageEntries = 10'000'000;

using State = SiteSession::State;
using Event = SiteSession::Event;

}  // namespace

SiteSession::SiteSession(std::string site, SiteSessionOptions options, uint64_t now_ms)
    : site_(std::move(site)), options_(std::move(options)), last_seen_ms_(now_ms) {}

std::optional<State> SiteSession::Transition(State state, Event event) {
  if (state == State::kClosed) return std::nullopt;
  switch (event) {
    case Event::kHello:
      return state == State::kDelivering ? state : State::kReady;
    case Event::kPush:
    case Event::kReoffer:
    case Event::kTick:
      return state;
    case Event::kCursorAck:
      if (state == State::kAwaitHello) return std::nullopt;
      return state;
    case Event::kPageDue:
      if (state == State::kAwaitHello) return std::nullopt;
      return State::kDelivering;
    case Event::kPageSent:
      if (state != State::kDelivering) return std::nullopt;
      return state;
    case Event::kEnd:
      if (state == State::kAwaitHello) return std::nullopt;
      return State::kClosed;
    case Event::kRefuse:
    case Event::kExpire:
      return State::kClosed;
  }
  return std::nullopt;
}

std::string_view SiteSession::StateName(State state) {
  switch (state) {
    case State::kAwaitHello:
      return "awaiting hello";
    case State::kReady:
      return "ready";
    case State::kDelivering:
      return "delivering";
    case State::kClosed:
      return "closed";
  }
  return "?";
}

std::string_view SiteSession::EventName(Event event) {
  switch (event) {
    case Event::kHello:
      return "hello";
    case Event::kPush:
      return "push";
    case Event::kReoffer:
      return "reoffer";
    case Event::kCursorAck:
      return "cursor ack";
    case Event::kPageDue:
      return "page due";
    case Event::kPageSent:
      return "page sent";
    case Event::kTick:
      return "tick";
    case Event::kEnd:
      return "end";
    case Event::kRefuse:
      return "refuse";
    case Event::kExpire:
      return "expire";
  }
  return "?";
}

bool SiteSession::Move(Event event, uint64_t now_ms, Output* out) {
  std::optional<State> next = Transition(state_, event);
  if (!next) {
    std::string message = "unexpected " + std::string(EventName(event)) + " in session state " +
                          std::string(StateName(state_));
    if (!out->refused) out->refused = protocol::ErrorReply{ErrorCode::kBadMessage, message, now_ms};
    if (!options_.bundle) out->steps.push_back(Send{*out->refused});
    return false;
  }
  state_ = *next;
  return true;
}

void SiteSession::Refuse(ErrorCode code, std::string message, uint64_t now_ms, Output* out) {
  protocol::ErrorReply reply{code, std::move(message), now_ms};
  if (!options_.bundle) out->steps.push_back(Send{reply});
  if (!out->refused) out->refused = std::move(reply);
  Move(Event::kRefuse, now_ms, out);
}

protocol::Welcome SiteSession::MakeWelcome(uint64_t now_ms, const HubView& view) const {
  return {view.acked, view.log_head, now_ms, options_.epoch, options_.max_skew_ms};
}

void SiteSession::MaybeDeliver(uint64_t log_head, Output* out) {
  if (state_ == State::kAwaitHello || state_ == State::kClosed || page_asked_) return;
  if (sent_through_ >= log_head) return;
  if (!unacknowledged_.empty()) {
    bool windowed = deliver_window_ > 0 && deliver_bytes_ > 0;
    if (!windowed || unacknowledged_bytes_ + deliver_bytes_ > deliver_window_) return;
  }
  state_ = *Transition(state_, Event::kPageDue);
  page_asked_ = true;
  out->steps.emplace_back(std::in_place_type<ReadDeliverPage>,
                          ReadDeliverPage{sent_through_, options_.deliver_page, deliver_bytes_});
}

void SiteSession::DropAcknowledged() {
  while (!unacknowledged_.empty() && unacknowledged_.front().last <= cursor_) {
    unacknowledged_bytes_ -= unacknowledged_.front().raw_bytes;
    unacknowledged_.pop_front();
  }
  sent_through_ = std::max(sent_through_, cursor_);
  if (state_ == State::kDelivering && unacknowledged_.empty() && !page_asked_) {
    state_ = State::kReady;
  }
}

SiteSession::Output SiteSession::OnHello(const protocol::Hello& hello, uint64_t now_ms,
                                         const HubView& view) {
  Output out;
  if (state_ == State::kClosed) return out;
  last_seen_ms_ = now_ms;
  if (hello.version < protocol::kOldestProtocolVersion ||
      hello.version > protocol::kProtocolVersion) {
    Refuse(ErrorCode::kVersion,
           "protocol version " + std::to_string(hello.version) + " not supported (hub speaks " +
               std::to_string(protocol::kOldestProtocolVersion) + " to " +
               std::to_string(protocol::kProtocolVersion) + ")",
           now_ms, &out);
    return out;
  }
  if (hello.site != site_) {
    Refuse(ErrorCode::kForbidden,
           "hello names site " + hello.site + " but the key is enrolled as " + site_, now_ms, &out);
    return out;
  }
  if (hello.schema_hash != options_.schema_hash) {
    Refuse(ErrorCode::kSchemaMismatch, "schema differs from the hub's: upgrade osrc-node", now_ms,
           &out);
    return out;
  }
  if (hello.merge_version != options_.merge_version) {
    Refuse(ErrorCode::kVersion,
           "merge version " + std::to_string(hello.merge_version) + " differs from the hub's (" +
               std::to_string(options_.merge_version) + "): upgrade " +
               (hello.merge_version < options_.merge_version ? "osrc-node" : "osrc-hub"),
           now_ms, &out);
    return out;
  }
  bool first_hello = state_ == State::kAwaitHello;
  Move(Event::kHello, now_ms, &out);
  uint64_t cursor = hello.epoch == options_.epoch ? hello.hub_cursor : 0;
  cursor_ = first_hello ? cursor : std::max(cursor_, cursor);
  deliver_bytes_ = hello.deliver_bytes;
  deliver_window_ = hello.deliver_window;
  DropAcknowledged();
  report_ =
      SiteReport{now_ms, hello.log_head, hello.oldest_unsent, hello.link_rate, hello.round_trip_ms};
  if (options_.bundle) return out;  // answered at End, after the bundle's pushes
  int64_t skew =
      static_cast<int64_t>(storage::MillisOf(hello.clock)) - static_cast<int64_t>(now_ms);
  if (static_cast<uint64_t>(std::llabs(skew)) > options_.max_skew_ms) {
    out.warnings.push_back("site " + site_ + ": clock " + std::to_string(std::llabs(skew)) +
                           " ms " + (skew > 0 ? "ahead of" : "behind") + " the hub's");
  }
  out.steps.push_back(Send{MakeWelcome(now_ms, view)});
  out.steps.push_back(RecordProgress{now_ms, skew, cursor_, report_});
  MaybeDeliver(view.log_head, &out);
  return out;
}

SiteSession::Output SiteSession::OnPush(uint64_t first, std::vector<protocol::Change> changes,
                                        uint64_t now_ms) {
  Output out;
  if (state_ == State::kClosed) return out;
  last_seen_ms_ = now_ms;
  if (Move(Event::kPush, now_ms, &out)) out.steps.push_back(ApplyPush{first, std::move(changes)});
  return out;
}

SiteSession::Output SiteSession::OnReoffer(uint64_t token, std::vector<protocol::Change> changes,
                                           uint64_t now_ms) {
  Output out;
  if (state_ == State::kClosed) return out;
  last_seen_ms_ = now_ms;
  if (Move(Event::kReoffer, now_ms, &out)) {
    out.steps.push_back(TakeBack{token, std::move(changes)});
  }
  return out;
}

SiteSession::Output SiteSession::OnCursorAck(const protocol::CursorAck& ack, uint64_t now_ms,
                                             uint64_t log_head) {
  Output out;
  if (state_ == State::kClosed) return out;
  last_seen_ms_ = now_ms;
  if (!Move(Event::kCursorAck, now_ms, &out)) return out;
  cursor_ = std::max(cursor_, ack.cursor);
  if (ack.deliver_bytes > 0) deliver_bytes_ = ack.deliver_bytes;
  if (ack.deliver_window > 0) deliver_window_ = ack.deliver_window;
  DropAcknowledged();
  out.steps.push_back(RecordProgress{now_ms, std::nullopt, cursor_, {}});
  MaybeDeliver(log_head, &out);
  return out;
}

SiteSession::Output SiteSession::OnPageSent(uint64_t last, size_t raw_bytes, uint64_t log_head) {
  Output out;
  if (options_.bundle || !page_asked_ || !Move(Event::kPageSent, 0, &out)) return out;
  page_asked_ = false;
  if (last > sent_through_) {
    unacknowledged_.push_back({last, raw_bytes});
    unacknowledged_bytes_ += raw_bytes;
    sent_through_ = last;
  }
  DropAcknowledged();
  MaybeDeliver(log_head, &out);
  return out;
}

SiteSession::Output SiteSession::OnTick(uint64_t now_ms, uint64_t log_head) {
  Output out;
  if (state_ == State::kClosed) return out;
  uint64_t quiet_ms = now_ms > last_seen_ms_ ? now_ms - last_seen_ms_ : 0;
  if (quiet_ms > 3 * options_.heartbeat_timeout_ms) {
    Move(Event::kExpire, now_ms, &out);
    return out;
  }
  Move(Event::kTick, now_ms, &out);
  MaybeDeliver(log_head, &out);
  return out;
}

SiteSession::Output SiteSession::OnEnd(uint64_t now_ms, const HubView& view) {
  Output out;
  if (!Move(Event::kEnd, now_ms, &out)) return out;
  out.steps.push_back(Send{MakeWelcome(now_ms, view)});
  out.steps.emplace_back(std::in_place_type<ReadDeliverPage>,
                         ReadDeliverPage{cursor_, kBundlePageEntries, 0});
  out.steps.push_back(RecordProgress{now_ms, std::nullopt, cursor_, report_});
  return out;
}

SiteSession::Output SiteSession::OnBye(uint64_t now_ms) {
  Output out;
  Move(Event::kEnd, now_ms, &out);
  return out;
}

}  // namespace osrc::hub
