// Enrolment of site keys at the hub: one site from the command line or many from a file, checked
// and written in one transaction (all or none).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "hub/hub.h"

namespace osrc::hub {

struct Enrolment {
  std::string site;
  std::string key;  // Z85 public key
  std::string name;
  std::string where;      // for errors about the site: "--site MAS" or "sites.csv:12"
  std::string key_where;  // for errors about the key: "--key" or "sites.csv:12"
};

// Reads `site,public_key[,...]` lines (more columns, e.g. a secret key, are ignored; blank lines
// and lines starting with # are skipped). An error names the file and line.
Status ReadEnrolmentFile(const std::string& file, std::vector<Enrolment>* out);

// Enrols every site, or none: each code and key checked, no key shared between sites, none the
// hub's own; a site enrolled with another key needs `replace` (its old key's sessions end).
// `replaced` gets the sites whose key changed.
Status EnrolSites(Hub& hub, const std::vector<Enrolment>& sites, bool replace,
                  std::vector<std::string>* replaced);

}  // namespace osrc::hub
