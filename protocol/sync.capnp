# The one language of osrc-sync: the wire, the change log and bundle files.
# Evolves by appending only: new fields take the next ordinal; retired ones become obsoleteFoo.
@0x802eafafd2323a51;

$import "/capnp/c++.capnp".namespace("osrc::protocol::wire");

# One field of a change. A null value unsets the field.
struct Field {
  name @0 :Text;
  # Stamp of the value of this field the writer saw (0: none). Conflict detection uses it.
  base @1 :UInt64;
  union {
    null @2 :Void;
    bool @3 :Bool;
    int @4 :Int64;
    float @5 :Float64;
    text @6 :Text;
  }
  # Origin of the value the writer saw, with `base` naming it exactly (empty: unknown, as in
  # changes written before merge version 2).
  baseOrigin @7 :Text;
}

# One write at its origin, stored in the origin's change log exactly as it goes on the wire
# (packed encoding).
struct Change {
  collection @0 :Text;
  id @1 :Text;
  origin @2 :Text;    # site code, or the hub id for reference data and corrections
  seq @3 :UInt64;     # dense per origin, from 1
  stamp @4 :UInt64;   # hybrid logical clock: 48 bits of milliseconds, 16 of counter
  base @5 :UInt64;    # highest stamp of the record state the writer saw
  deleted @6 :Bool;
  fields @7 :List(Field);
  baseOrigin @8 :Text;  # origin of the write `base` names (empty: unknown)
  # An erasure order (with `deleted` set, no fields): every replica drops the record's values
  # and refuses later writes to it. Readers from before it see a plain delete.
  erased @9 :Bool;
}

# Framing of a run of encoded changes: each element is one Change message, as stored.
struct ChangeRun {
  changes @0 :List(Data);
  # A chained Deliver page's (protocol version 2) hub sequences and seals travel here, compressed
  # with the changes, instead of in the Deliver: the sequences cost next to nothing, the seals
  # lose their list pointers. Seals: 16 bytes per change, concatenated; empty: none.
  seqs @1 :List(UInt64);
  seals @2 :Data;
}

struct Hello {
  version @0 :UInt32;
  site @1 :Text;
  schemaHash @2 :UInt64;
  logHead @3 :UInt64;     # highest sequence in the node's change log
  hubCursor @4 :UInt64;   # highest hub sequence the node has applied
  clock @5 :UInt64;       # node HLC now
  epoch @6 :Data;         # hub epoch the node last saw (empty: none)
  deliverBytes @7 :UInt32;  # largest Deliver its link carries in time, changes' bytes (0: any)
  mergeVersion @8 :UInt32;  # merge rules the sender applies (storage::kMergeVersion); must match
  # What the site reports of itself, for the hub's console (0: none or not measured).
  oldestUnsent @9 :UInt64;  # stamp of the oldest change the hub has not acknowledged
  linkRate @10 :UInt32;     # bytes per second the site measured towards the hub
  roundTripMs @11 :UInt32;  # its measured round trip
  deliverWindow @12 :UInt32;  # changes' bytes of Deliver pages it takes unacknowledged (0: one)
}

struct Welcome {
  acked @0 :UInt64;       # highest sequence of this site the hub holds
  hubHead @1 :UInt64;
  hubClock @2 :UInt64;
  epoch @3 :Data;
  maxSkewMs @4 :UInt64;
}

# A contiguous run of the site's changes, zstd-compressed ChangeRun.
struct Push {
  first @0 :UInt64;
  count @1 :UInt32;
  rawSize @2 :UInt32;
  compressed @3 :Data;
  # Compressed against what the connection carried this way before it (protocol version 2): the
  # last 64 KiB of its raw runs are the zstd prefix, and `carried` counts those runs' bytes.
  # Unset: a self-contained frame.
  chained @4 :Bool;
  carried @5 :UInt64;
  # The run is in the compact form of protocol version 3 (protocol/compact_run.h), zero-padded to
  # whole words, not a ChangeRun.
  compact @6 :Bool;
}

# Sent only after the commit holding the changes is durable. On a gap, `acked` is the hub's
# high-water mark and `gap` is set: the node resends from acked + 1.
struct Ack {
  acked @0 :UInt64;
  gap @1 :Bool;
}

# Hub log entries after the node's cursor: reference data and corrections to the node's records.
struct Deliver {
  first @0 :UInt64;      # hub sequence of the first entry
  last @1 :UInt64;       # hub sequence of the last entry (entries may skip other sites' ones)
  seqs @2 :List(UInt64);
  rawSize @3 :UInt32;
  compressed @4 :Data;   # zstd ChangeRun, one change per seq
  hubHead @5 :UInt64;
  seals @6 :List(Data);  # the hub's seal over each change (protocol/seal.h); empty: none
  chained @7 :Bool;      # as in Push
  carried @8 :UInt64;
  compact @9 :Bool;      # as in Push
}

struct CursorAck {
  cursor @0 :UInt64;
  deliverBytes @1 :UInt32;  # as in Hello, measured anew (0: unchanged)
  deliverWindow @2 :UInt32;  # as in Hello, measured anew (0: unchanged)
}

struct Error {
  code @0 :UInt16;
  message @1 :Text;
  hubClock @2 :UInt64;
}

# Hub changes a site received in an earlier hub epoch, handed back to a hub restored from a
# backup, which takes back those its seal proves it wrote and lacks. Answered by ReofferAck
# once durable.
struct Reoffer {
  token @0 :UInt64;      # the site's number of the last entry; ReofferAck repeats it
  changes @1 :List(Data);
  seals @2 :List(Data);  # one per change
}

struct ReofferAck {
  token @0 :UInt64;
  hubHead @1 :UInt64;    # after taking back: the site waits for what was logged again
}

struct Message {
  union {
    hello @0 :Hello;
    welcome @1 :Welcome;
    push @2 :Push;
    ack @3 :Ack;
    deliver @4 :Deliver;
    cursorAck @5 :CursorAck;
    error @6 :Error;
    reoffer @7 :Reoffer;
    reofferAck @8 :ReofferAck;
    bye @9 :Void;  # the site is leaving: the hub ends its session now, not at expiry
  }
}

# A bundle file's sealed payload: the messages a link would carry, for a site without one.
# Site to hub: Hello, then Push. Hub to site (the reply): Welcome, then Deliver.
struct Bundle {
  site @0 :Text;
  seq @1 :UInt64;        # the site's bundle number; a reply carries the number it answers
  reply @2 :Bool;
  createdMs @3 :UInt64;
  messages @4 :List(Data);
}
