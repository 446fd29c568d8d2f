// What the console page tests share: who is looking, and counting parts of a page.
#pragma once

#include <string>

#include "hub/console_pages.h"

namespace osrc::testing {

// Occurrences of `part` in `text`, overlapping ones included.
inline size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

inline hub::PageContext Admin() {
  return {"alice", hub::Role::kAdmin, std::string(64, 'c'), {}, {}};
}
inline hub::PageContext Viewer() {
  return {"vic", hub::Role::kViewer, std::string(64, 'd'), {}, {}};
}

}  // namespace osrc::testing
