// LinkSession: the site's side of the sync protocol, without I/O. It takes the link's events
// (connected, secured, a message, lost) and clock ticks, and returns what to do: frames to send,
// a connection to open or close. It reads and writes the site's store only through LinkStore.
// The ZeroMQ driver (node/link_driver.h) and the bundle files (node/bundle.h) both drive it, so
// each protocol rule of a site exists here once. Not thread-safe.
//
// States and events (one connection at a time; "down" = kBackoff if reconnecting, else kFailed):
//
//   state \ event  Start  Connected Secured  Welcome  Reply    CaughtUp Behind   Down     Retry
//   kIdle          Conn   -         -        -        -        -        -        -        -
//   kConnecting    -      Conn      Hello    -        -        -        -        down     -
//   kHelloSent     -      -         -        Sync     -        -        -        down     -
//   kSyncing       -      -         -        Sync     Sync     InStep   -        down     -
//   kInStep        -      -         -        InStep   InStep   -        Sync     down     -
//   kBackoff       -      -         -        -        -        -        -        -        Conn
//   kFailed        -      -         -        -        -        -        -        -        -
//   kStopped       -      -         -        -        -        -        -        -        -
//
// Stop takes every state to kStopped, saying Bye to a hub that welcomed the site. Reply is an Ack,
// Deliver or ReofferAck. Down is a lost link, a refusal by the hub or a timeout. A message from the
// hub that the table does not allow (an Ack before the Welcome) ends the connection as a protocol
// error.
//
// Rules kept here: the Hello waits for the secure connection (a fresh clock reading, and its
// answer measures a round trip); the first pushes leave with it, from the sequence the hub last
// acknowledged, when the site's clock is trusted not to be corrected by the Welcome (the Welcome
// and the gap rule correct the start); pushes run from the hub's acknowledged sequence with a
// window (go-back-N on a gap); Deliver pages in a window sized from the measured link, each timed
// from when it could have left the hub; a page that skips entries ends the connection;
// keep-alive Hellos one at a time when in step; hand-back after a hub restore; set-up, answer and
// push deadlines; push and window sizing (node/link_tuning.h), shrunk after a lost connection to
// what got through and grown again by acks; backoff with jitter, reset by any progress.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "node/link_tuning.h"
#include "protocol/link_options.h"
#include "protocol/messages.h"

namespace osrc::node {

// What a LinkSession reads and writes of the site's store. The network driver commits each call
// on its own; the bundle paths run them all in one transaction. Calls may throw osrc::Error on a
// store fault.
class LinkStore {
 public:
  struct Position {
    uint64_t log_head = 0;
    uint64_t cursor = 0;         // hub sequence applied
    uint64_t acked = 0;          // this site's sequence the hub holds, as last heard
    std::string epoch;           // hub epoch last seen
    uint64_t oldest_unsent = 0;  // stamp of change acked + 1; 0: none
    bool clock_trusted = false;  // pushes may leave with the Hello (node/hub_replies.h)
  };
  struct Welcomed {
    uint64_t head = 0;
    uint64_t acked = 0;
    uint64_t cursor = 0;
    bool owed = false;  // hub changes of an earlier epoch to hand back
  };

  virtual ~LinkStore() = default;
  virtual Position Read() = 0;
  virtual uint64_t LogHead() = 0;
  // The site's changes from `first` up to `last`, stopping once `max_bytes` are reached (at
  // least one change).
  virtual std::vector<std::string> ReadLog(uint64_t first, uint64_t last, size_t max_bytes) = 0;
  // Adopts the hub's epoch, acknowledged sequence and clock (node/hub_replies.h); re-stamps no
  // change up to `sent_through`, pushed before the Welcome came.
  virtual Status ApplyWelcome(const protocol::Welcome& welcome, bool live, uint64_t round_trip_ms,
                              uint64_t sent_through, Welcomed* out) = 0;
  // Applies delivered changes durably; `*cursor` is then the hub sequence applied.
  virtual Status ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) = 0;
  virtual void SaveAcked(uint64_t acked) = 0;
  virtual std::optional<protocol::Reoffer> NextReoffer(size_t max_bytes) = 0;
  virtual void DropReoffered(uint64_t token) = 0;
  // The link state for `osrc-node status`; a non-empty failure replaces the last one kept.
  virtual void Report(const std::string& state, const std::string& failure, uint64_t now_ms) = 0;
};

struct LinkIdentity {
  std::string site;
  uint64_t schema_hash = 0;
  std::string endpoint;  // the hub's, named in errors
};

// What the driver does after a call, in this order: send the farewell on the connection and close
// it, open a new one, send the frames on the (new) connection, and log the lines (never field
// values).
struct LinkEffects {
  enum class Level { kDebug, kInfo, kWarn };
  struct Line {
    Level level;
    std::string text;
  };
  bool close = false;
  std::string farewell;  // a Bye before the close: the hub ends the session at once
  bool open = false;
  std::vector<std::string> frames;
  std::vector<Line> log;
};

class LinkSession {
 public:
  enum class State {
    kIdle,
    kConnecting,
    kHelloSent,
    kSyncing,
    kInStep,
    kBackoff,
    kFailed,
    kStopped
  };
  enum class Event {
    kStart,
    kConnected,
    kSecured,
    kWelcome,
    kReply,
    kCaughtUp,
    kBehind,
    kDown,
    kRetry,
    kStop
  };

  // `reconnect`: after a lost connection, back off and connect again (`run`); else fail (`sync`).
  // `store` outlives the session. `seed` makes the backoff jitter repeatable in tests.
  LinkSession(const protocol::LinkOptions& options, LinkIdentity identity, LinkStore& store,
              bool reconnect, uint64_t seed);
  LinkSession(const LinkSession&) = delete;
  LinkSession& operator=(const LinkSession&) = delete;

  LinkEffects Start(uint64_t now);
  // TCP reached the hub (or whatever is in between): the secure set-up gets more time.
  LinkEffects OnConnected(uint64_t now);
  // The CURVE handshake completed: the Hello goes.
  LinkEffects OnSecured(uint64_t now);
  LinkEffects OnMessage(const protocol::Message& message, size_t frame_bytes, uint64_t now);
  // The connection failed (heartbeat lost, handshake refused, bad frame).
  LinkEffects OnFailure(const Status& failure, uint64_t now);
  // Deadlines, keep-alives, new local changes, the end of a backoff.
  LinkEffects OnTick(uint64_t now);
  // The store's owner wrote to its log: the next OnTick reads the log head however soon it comes,
  // and pushes what is new.
  void NoteLogGrew() { head_stale_ = true; }
  // Frames go to `send` as soon as they are made, rather than into LinkEffects::frames, unless
  // the step also closes or opens a connection: the peer works on the first push while the next
  // is read and encoded.
  void SendFramesAt(std::function<void(const std::string&)> send) { send_ = std::move(send); }
  LinkEffects Stop(uint64_t now);

  State state() const { return state_; }
  bool reached_in_step() const { return reached_in_step_; }
  // Why the last connection ended; Ok if none has.
  const Status& failure() const { return failure_; }
  // When the current backoff ends.
  uint64_t retry_at() const { return retry_at_; }
  const LinkTuning& tuning() const { return tuning_; }
  uint64_t acked() const { return acked_; }
  uint64_t cursor() const { return cursor_; }

  // A reply bundle: a Welcome, a Deliver and maybe a ReofferAck, applied through the store; the
  // Welcome's hub clock is of unknown age. `*delivered` counts the changes applied.
  Status ImportReply(const std::vector<protocol::Message>& messages, size_t* delivered);

  // Bundle export: the Hello and every unacknowledged change in pushes, then the hand-back owed
  // to a restored hub, in at most `max_reoffer_bytes`.
  std::vector<protocol::Message> BundleMessages(uint64_t now, size_t max_reoffer_bytes);

  static const char* StateName(State state);

 private:
  struct InFlight {
    uint64_t first;
    uint64_t last;
    uint64_t sent_ms;
    uint64_t wire_bytes;
    uint64_t raw_bytes;
  };
  // A Hello or CursorAck: it lets the hub send Deliver pages up to its window.
  struct DeliverAsk {
    uint64_t received_raw;  // raw page bytes received on the connection when it was sent
    uint64_t sent_ms;
    uint64_t hub_head;  // the hub's log head as this site knew it then
    uint32_t page_bytes;
    uint32_t window_bytes;
  };

  // Moves to the state the table gives for `event`; false (no move) if it allows none.
  bool Transition(Event event, bool reconnect_anyway = false);
  // A connection is open or being made: kConnecting to kInStep.
  bool connected() const {
    return state_ == State::kConnecting || state_ == State::kHelloSent ||
           state_ == State::kSyncing || state_ == State::kInStep;
  }
  // The push of the log from `first`: at most `max_bytes` (at least one change), up to `head`.
  protocol::Push ReadPush(uint64_t first, uint64_t head, size_t max_bytes);
  protocol::Hello MakeHello(const LinkStore::Position& position, uint64_t now) const;
  // Sends a Hello; returns the position it reported.
  LinkStore::Position SendHello(uint64_t now, LinkEffects* effects);
  // Pushes while the window has room, once welcomed.
  void Pump(uint64_t now, LinkEffects* effects);
  void SendPushes(uint64_t now, LinkEffects* effects);
  void SendReoffer(LinkEffects* effects);
  // Sends `frame` now if a sender is set and nothing in `effects` must happen first.
  void Emit(std::string frame, LinkEffects* effects);
  Status OnWelcome(const protocol::Welcome& welcome, uint64_t now, LinkEffects* effects);
  Status OnAck(const protocol::Ack& ack, uint64_t now, LinkEffects* effects);
  Status OnDeliver(const protocol::Deliver& deliver, size_t frame_bytes, uint64_t now,
                   LinkEffects* effects);
  Status OnReofferAck(const protocol::ReofferAck& ack, LinkEffects* effects);
  // How long a page of `deliver` was on the wire: from when the hub could send it (the ask
  // that made room for it, a round trip before it could arrive) or when the page before it
  // arrived, whichever is later. 0 when unknown.
  uint64_t DeliverOnWireMs(const protocol::Deliver& deliver, uint64_t now);
  // Keeps the ask for page timing, unless one after the same pages is kept already.
  void AskDeliver(const DeliverAsk& ask);
  Status CheckDeadlines(uint64_t now) const;
  bool CaughtUp() const;
  void UpdateInStep(uint64_t now, LinkEffects* effects);
  // `reconnect_anyway`: back off and connect again even when not reconnecting.
  LinkEffects Down(const Status& failure, uint64_t now, bool reconnect_anyway = false);
  void ResetConnection(uint64_t now);

  const protocol::LinkOptions& options_;
  LinkIdentity identity_;
  LinkStore& store_;
  const bool reconnect_;
  std::mt19937_64 random_;
  State state_ = State::kIdle;
  LinkTuning tuning_;
  std::function<void(const std::string&)> send_;

  // Across connections.
  bool may_push_early_ = true;  // until the hub refuses pushes sent with a Hello as ahead
  int backoff_ms_;
  uint64_t retry_at_ = 0;
  bool reached_in_step_ = false;
  Status failure_;
  std::deque<InFlight> lost_in_flight_;  // pushes of the last lost connection, unanswered
  uint64_t lost_through_wire_ = 0;       // wire bytes acknowledged on that connection
  bool lost_deliver_ = false;            // it lost a Deliver on its way
  uint64_t lost_deliver_bytes_ = 0;      // what it had asked for

  // This connection.
  bool pushed_early_ = false;  // pushes left with the Hello
  protocol::RunHistory sent_;  // the pushes' runs, which compress the next
  std::deque<InFlight> in_flight_;
  uint64_t connect_started_ms_ = 0;
  bool tcp_connected_ = false;
  uint64_t hello_sent_ms_ = 0;
  bool hello_outstanding_ = false;
  uint64_t last_heard_ms_ = 0;
  uint64_t last_acked_ms_ = 0;  // when an ack last completed a push in flight
  uint64_t head_checked_ms_ = 0;
  bool head_stale_ = false;  // NoteLogGrew since the head was last read
  uint64_t acked_ = 0;
  uint64_t next_ = 1;
  uint64_t head_ = 0;
  uint64_t cursor_ = 0;
  uint64_t hub_head_ = 0;
  bool deliver_expected_ = false;
  uint32_t deliver_asked_bytes_ = 0;
  std::deque<DeliverAsk> deliver_asks_;  // oldest first, back to the one that let the last page go
  uint64_t received_raw_ = 0;            // raw bytes of Deliver pages on this connection
  uint64_t last_delivered_ms_ = 0;
  uint64_t last_page_hub_head_ = 0;  // the hub's log head when it read the last page
  bool owed_ = false;
  uint64_t reoffer_outstanding_ = 0;  // token of the Reoffer awaiting its ack; 0: none
  uint64_t acked_wire_ = 0;           // wire bytes acknowledged on this connection
  bool progressed_ = false;           // anything acknowledged or delivered on this connection
  bool welcomed_ = false;             // the first Hello of this connection was answered
};

}  // namespace osrc::node
