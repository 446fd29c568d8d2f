// SiteSession: the hub's side of one site's session, without I/O. It takes the site's messages
// and clock ticks (time passed in) and returns what to do: messages to send and store actions
// for its driver to run. The ZeroMQ server (one session per routing id, hub/server.h) and the
// bundle import (hub/bundle_import.h) both drive it, so each Hello, Welcome, epoch and paging
// rule of the hub exists here once. Not thread-safe.
//
// States and events:
//
//   state \ event Hello  Push   Reoffer CursorAck PageDue PageSent Tick   End    Refuse Expire
//   kAwaitHello   Ready  Await  Await   -         -       -        Await  -      Closed Closed
//   kReady        Ready  Ready  Ready   Ready     Deliv   -        Ready  Closed Closed Closed
//   kDelivering   Deliv  Deliv  Deliv   Deliv*    Deliv   Deliv    Deliv  Closed Closed Closed
//   kClosed       -      -      -       -         -       -        -      -      -      -
//
// Hello is an accepted Hello (a refused one is Refuse). PageDue: the session asks its driver to
// read the next Deliver page; PageSent: the driver sent it. Pages go in a window: more while the
// raw bytes of those the site has not acknowledged, plus one more page, fit the window the site
// asked for (its Hello or CursorAck); a site that asked for none gets one page at a time.
// *CursorAck returns to kReady once no page is unacknowledged. End: a bundle's messages are all
// in (answered), or a live site's Bye (it is leaving; nothing sent). Expire: no message for 3 ×
// the heartbeat timeout.
// A message the table does not allow (a CursorAck before the Hello) is answered with an Error
// and dropped; the state stays. Pushes and hand-backs need no Hello: the store checks them
// against what it holds. A later Hello of the session (a keep-alive) leaves the pages sent on
// its connection in flight.
//
// Rules kept here: protocol version, the Hello's site against the key's site, schema hash and
// merge version; clock skew reported; cursor = the Hello's hub cursor if its epoch is the hub's,
// else 0; the Welcome; Deliver page limits (entries from the hub's config, bytes and window from
// the site's last Hello or CursorAck); a bundle answered by one unbounded page.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hub/sites.h"
#include "protocol/change.h"
#include "protocol/messages.h"

namespace osrc::hub {

struct SiteSessionOptions {
  std::string epoch;                     // the hub's epoch
  uint64_t schema_hash = 0;              // the hub's schema
  uint32_t merge_version = 0;            // the hub's merge rules (storage::kMergeVersion)
  uint64_t max_skew_ms = 0;              // told in the Welcome; a larger skew is reported
  uint64_t heartbeat_timeout_ms = 6000;  // Default: 6 s; 3 × without a message ends the session
  size_t deliver_page = 2000;            // Default: 2,000 entries per Deliver page
  bool bundle = false;                   // Default: live; a bundle is answered at End
};

// What the hub holds for the site when its Hello (or a bundle's End) is answered.
struct HubView {
  uint64_t acked = 0;     // the site's acknowledged sequence
  uint64_t log_head = 0;  // the hub log's head
};

class SiteSession {
 public:
  enum class State { kAwaitHello, kReady, kDelivering, kClosed };
  enum class Event {
    kHello,
    kPush,
    kReoffer,
    kCursorAck,
    kPageDue,
    kPageSent,
    kTick,
    kEnd,
    kRefuse,
    kExpire
  };

  // Actions and messages, in the order the driver runs them.
  struct Send {
    protocol::Message message;
  };
  // Apply the site's checked changes from `first`; answered by the store's Ack.
  struct ApplyPush {
    uint64_t first = 0;
    std::vector<protocol::Change> changes;
  };
  // Take back hub changes the site handed back (seals checked); answered by ReofferAck{token}.
  struct TakeBack {
    uint64_t token = 0;
    std::vector<protocol::Change> changes;
  };
  // Persist the site's progress: last contact, skew (measured at a live Hello), cursor, and
  // what its Hello reported.
  struct RecordProgress {
    uint64_t last_contact_ms = 0;
    std::optional<int64_t> clock_skew_ms;
    uint64_t cursor = 0;
    std::optional<SiteReport> report;
  };
  // Read and send the site's next Deliver page after `cursor` (max_bytes 0: no limit).
  struct ReadDeliverPage {
    uint64_t cursor = 0;
    size_t max_entries = 0;
    size_t max_bytes = 0;
  };
  using Step = std::variant<Send, ApplyPush, TakeBack, RecordProgress, ReadDeliverPage>;

  struct Output {
    std::vector<Step> steps;
    std::vector<std::string> warnings;  // for the driver's log, naming no field values
    // The first refusal: an Error the site is sent, or in bundle mode the reason the bundle fails.
    std::optional<protocol::ErrorReply> refused;
  };

  // `site`: the site the key was mapped to. `now_ms`: when the session began.
  SiteSession(std::string site, SiteSessionOptions options, uint64_t now_ms);

  Output OnHello(const protocol::Hello& hello, uint64_t now_ms, const HubView& view);
  // REQUIRES: `changes` decoded and checked (hub/inbound.h).
  Output OnPush(uint64_t first, std::vector<protocol::Change> changes, uint64_t now_ms);
  // REQUIRES: `changes` checked by CheckReoffer (hub/inbound.h).
  Output OnReoffer(uint64_t token, std::vector<protocol::Change> changes, uint64_t now_ms);
  // `log_head`: the hub log's head now, to ask for the next page at once.
  Output OnCursorAck(const protocol::CursorAck& ack, uint64_t now_ms, uint64_t log_head);
  // The driver sent the page last asked for: entries up to hub sequence `last`, `raw_bytes` of
  // changes. Asks for the next if the window has room.
  Output OnPageSent(uint64_t last, size_t raw_bytes, uint64_t log_head);
  // A clock tick: expires the session, or asks for a Deliver page if one is due.
  Output OnTick(uint64_t now_ms, uint64_t log_head);
  // Bundle mode: every message of the bundle is in, and applied; `view` is the store after them.
  Output OnEnd(uint64_t now_ms, const HubView& view);
  // Live mode: the site said Bye.
  Output OnBye(uint64_t now_ms);

  // The state after `event` in `state`; nullopt if the table does not allow it.
  static std::optional<State> Transition(State state, Event event);
  static std::string_view StateName(State state);
  static std::string_view EventName(Event event);

  const std::string& site() const { return site_; }
  State state() const { return state_; }
  bool closed() const { return state_ == State::kClosed; }
  uint64_t cursor() const { return cursor_; }
  size_t deliver_bytes() const { return deliver_bytes_; }
  size_t deliver_window() const { return deliver_window_; }

 private:
  // Moves by the table; false (and an Error in `out`) if it does not allow `event` now.
  bool Move(Event event, uint64_t now_ms, Output* out);
  void Refuse(ErrorCode code, std::string message, uint64_t now_ms, Output* out);
  // Asks for the next page when the window has room and the site is behind `log_head`.
  void MaybeDeliver(uint64_t log_head, Output* out);
  // Forgets pages the site has applied.
  void DropAcknowledged();
  protocol::Welcome MakeWelcome(uint64_t now_ms, const HubView& view) const;

  std::string site_;
  SiteSessionOptions options_;
  State state_ = State::kAwaitHello;
  struct Page {
    uint64_t last = 0;
    size_t raw_bytes = 0;
  };

  uint64_t cursor_ = 0;        // hub sequence the site has applied, in this epoch
  size_t deliver_bytes_ = 0;   // the site's page limit; 0: none
  size_t deliver_window_ = 0;  // raw bytes of pages it takes unacknowledged; 0: one page
  bool page_asked_ = false;    // a ReadDeliverPage not yet answered by OnPageSent
  uint64_t sent_through_ = 0;  // last hub sequence of the pages sent on this connection
  std::deque<Page> unacknowledged_;
  size_t unacknowledged_bytes_ = 0;
  uint64_t last_seen_ms_ = 0;
  std::optional<SiteReport> report_;  // from the last Hello
};

}  // namespace osrc::hub
