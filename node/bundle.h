// USB bundles at a site: export every change the hub has not acknowledged, sealed to the hub;
// import the hub's sealed reply (acknowledgement, reference data, corrections) whole or not at all.
#pragma once

#include <string>

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

Status ExportBundle(Node& node, const std::string& file, BundleExportResult* result);

struct ReplyImportResult {
  uint64_t acked = 0;
  uint64_t cursor = 0;
  size_t delivered = 0;
};

Status ImportReply(Node& node, const std::string& file, ReplyImportResult* result);

}  // namespace osrc::node
