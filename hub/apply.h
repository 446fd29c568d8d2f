// Applying a site's checked push at the hub, inside the caller's write transaction: the changes
// after the site's acknowledged sequence are merged and the sequence advances. Used by the
// daemon's writer and by bundle import.
#pragma once

#include <vector>

#include "config/schema.h"
#include "hub/sites.h"
#include "protocol/change.h"
#include "protocol/messages.h"
#include "replica/erase.h"
#include "storage/store.h"

namespace osrc::hub {

// A push starting past acked + 1 applies nothing: the Ack reports the gap. Before anything is
// applied, every reference to a site record (a service's participant) must name a record this
// store holds, live or deleted, or one an earlier change of the push writes; otherwise the whole
// push is refused, as a push failing Schema::CheckChange is, naming change, record and field.
// A deleted record is accepted: a participant deleted centrally while its site kept writing
// services to it must neither block the site's link nor lose its changes. A site writes its
// records in order, so only a forged or broken push names an id the hub never saw.
// The site's erasure orders applied are added to `*erased` (the caller registers them once
// committed). A write to a record erased here merges nothing (Store::IsErased); it is counted
// in `*refused_erased`, if given.
Status ApplyPush(storage::Store& store, storage::WriteTxn& txn, const config::Schema& schema,
                 SiteEntry& site, uint64_t first, const std::vector<protocol::Change>& changes,
                 size_t* applied, protocol::Ack* ack,
                 std::vector<replica::ErasedRecord>* erased = nullptr,
                 size_t* refused_erased = nullptr);

// Takes back hub changes a site handed back after a restore (seals checked): each one that
// changes this store is merged and logged again under the next hub sequence, same stamp and
// fields, and indexed for delivery. Returns how many were taken back.
size_t TakeBack(storage::Store& store, storage::WriteTxn& txn, const config::Schema& schema,
                const std::vector<protocol::Change>& changes);

}  // namespace osrc::hub
