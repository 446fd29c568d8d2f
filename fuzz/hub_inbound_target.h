// The one input of the hub_inbound fuzz target, shared by the fuzzer (hub_inbound_fuzz.cc), its
// seed generator (hub_inbound_seeds.cc) and the replay test (tests/protocol/fuzz_corpus_test.cc):
// a frame decoded as the hub decodes one from site MAS, with fixed limits and a fixed hub clock so
// every run of a file takes the same path. Header-only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "config/schema_loader.h"
#include "hub/inbound.h"

namespace osrc::fuzz {

inline constexpr char kHubInboundSite[] = "MAS";
inline constexpr char kHubInboundHubId[] = "MNL";
// The hub clock: 2025-01-01T00:00:00Z.
inline constexpr uint64_t kHubInboundNowMs = 1'735'689'600'000;

// The hub's defaults, at the fixed clock.
inline hub::InboundLimits HubInboundLimits() {
  hub::InboundLimits limits;
  limits.now_ms = kHubInboundNowMs;
  limits.max_skew_ms = 5 * 60 * 1000;
  return limits;
}

// The hub's sealer, from a fixed secret key, for the seals of handed-back changes.
inline const protocol::Sealer& HubInboundSealer() {
  static const protocol::Sealer sealer("0123456789abcdefghijklmnopqrstuvwxyzABCD");
  return sealer;
}

// A Reoffer is checked as the hub checks one (its seals); what is accepted must be sealed by
// this hub and be its own changes.
inline std::string CheckReofferPromises(const protocol::Reoffer& reoffer,
                                        const hub::InboundLimits& limits, Status* status) {
  std::vector<protocol::Change> changes;
  *status = hub::CheckReoffer(reoffer, HubInboundSealer(), kHubInboundHubId, limits, &changes);
  if (!status->ok()) return status->what().empty() ? "an error without a message" : "";
  if (changes.size() != reoffer.changes.size()) return "an accepted reoffer lost changes";
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!HubInboundSealer().Verify(reoffer.changes[i], reoffer.seals[i])) {
      return "an accepted handed-back change without this hub's seal";
    }
    if (changes[i].origin != kHubInboundHubId) return "an accepted handed-back change of a site";
  }
  return "";
}

// Decodes `frame` into `*out` as the hub would and checks what an accepted frame promises the
// hub. Returns "" if the outcome is consistent, else the broken promise. Never throws.
inline std::string CheckHubInbound(std::span<const uint8_t> frame, Status* status,
                                   hub::Inbound* out) {
  hub::InboundLimits limits = HubInboundLimits();
  *status = hub::DecodeInbound(frame, kHubInboundSite, config::DefaultSchema(), limits, out);
  if (!status->ok()) {
    if (status->what().empty()) return "an error without a message";
    return "";
  }
  if (const auto* reoffer = std::get_if<protocol::Reoffer>(&out->message)) {
    return CheckReofferPromises(*reoffer, limits, status);
  }
  const auto* push = std::get_if<protocol::Push>(&out->message);
  if (push == nullptr) return out->changes.empty() ? "" : "changes decoded for a non-push";
  if (out->changes.empty()) return "an accepted push without changes";
  if (!push->changes.empty()) return "an accepted push kept its raw changes";
  if (out->changes.size() > limits.message.max_changes) return "more changes than the limit";
  for (size_t i = 0; i < out->changes.size(); ++i) {
    const protocol::Change& change = out->changes[i];
    if (change.origin != kHubInboundSite) return "an accepted change of another origin";
    if (change.seq != push->first + i) return "an accepted change out of sequence";
    if (change.stamp > (limits.now_ms + limits.max_skew_ms) << 16) {
      return "an accepted change beyond the clock horizon";
    }
    if (!config::DefaultSchema().CheckChange(change, kHubInboundSite).ok()) {
      return "an accepted change the schema refuses";
    }
  }
  return "";
}

}  // namespace osrc::fuzz
