// USB bundles at a site: export every change the hub has not acknowledged, sealed to the hub;
// import the hub's sealed reply (acknowledgement, reference data, corrections) whole or not at all.
#pragma once

#include <string>

#include "base/progress.h"
#include "node/node.h"

namespace osrc::node {

using storage::kMetaBundleSeq;  // declared in storage/meta.h
using storage::kMetaReplySeq;

struct BundleExportResult {
  uint64_t seq = 0;
  uint64_t first = 0;
  uint64_t last = 0;
  size_t handed_back = 0;  // hub changes owed to a restored hub, carried along
};

// `progress` (may be null) counts the changes read into the bundle.
Status ExportBundle(Node& node, const std::string& file, BundleExportResult* result,
                    Progress* progress = nullptr);

struct ReplyImportResult {
  uint64_t acked = 0;
  uint64_t cursor = 0;
  size_t delivered = 0;
};

// `progress` (may be null) counts the deliveries applied (all at once: one transaction).
Status ImportReply(Node& node, const std::string& file, ReplyImportResult* result,
                   Progress* progress = nullptr);

}  // namespace osrc::node
