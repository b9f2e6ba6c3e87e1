// Audit entries as a node sends them (haven.v1.IndexedEntry): the leaf
// bytes as hashed and, for convenience, the leaf parsed, which a node
// leaves out when an entry is too large to send twice in one response.
#ifndef HAVEN_CLIENT_INDEXED_ENTRY_H_
#define HAVEN_CLIENT_INDEXED_ENTRY_H_

#include "haven/v1/audit.pb.h"

namespace haven::client {

// Parses `indexed`'s leaf into its entry if the node left the entry out.
// A leaf that does not parse leaves what did; the hash check names it.
inline void CompleteEntry(haven::v1::IndexedEntry* indexed) {
  if (!indexed->has_entry()) {
    indexed->mutable_entry()->ParseFromString(indexed->leaf());
  }
}

}  // namespace haven::client

#endif  // HAVEN_CLIENT_INDEXED_ENTRY_H_
