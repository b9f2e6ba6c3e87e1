// Reconciliation of an exchange's two sides: every decision a holder logged
// about a peer's request (DISCLOSURE, REQUEST_REFUSED) must have the
// requester's receipt (DISCLOSURE_RECEIVED, or REQUEST_REFUSED when no
// decision arrived) with the same request id, and the two entries must tell
// the same story. What each side logs (server/exchange/holder.cc,
// requester.cc):
//
//   holder                          requester
//   DISCLOSURE (given non-empty)    DISCLOSURE_RECEIVED, same given
//   REQUEST_REFUSED by its policy   DISCLOSURE_RECEIVED, nothing given
//   REQUEST_REFUSED, refused before  REQUEST_REFUSED
//     a decision (unknown handle...)
//
// Both copy purpose, asked categories, the decision's given and withheld
// categories, its policy version and its consent references (the holder
// logs its references for the requester, which is what the requester
// receives), and each stamps its own clock. Subject pseudonyms are keyed per
// node and cannot be compared.
//
// Either node may be holder in one exchange and requester in another, so a
// pair is two entries with one request id, one at each node, whatever their
// roles. Findings name entries by node and index and give field values
// (kinds, categories, reasons, purpose, policy version, consent references,
// times), never a justification, detail or pseudonym.
//
// Pure; thread-safe.
#ifndef HAVEN_CLIENT_VERIFY_RECONCILE_H_
#define HAVEN_CLIENT_VERIFY_RECONCILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "haven/v1/audit.pb.h"

namespace haven::client {

// How far apart the two nodes' times for one exchange may be. The holder
// stamps its entry before it answers and the requester after the answer
// arrives, so the gap is one round trip and two commits plus the nodes'
// clock skew; nodes are expected to run NTP.
inline constexpr absl::Duration kDefaultReconcileTolerance = absl::Minutes(5);

struct ReconcileOptions {
  absl::Duration tolerance = kDefaultReconcileTolerance;
};

// One node's log, or the part of it to reconcile.
struct ReconcileSide {
  std::string agency_id;
  // Borrowed for the call. Entries other than exchange entries naming the
  // other side's agency with a request id are ignored. An entry without
  // its parsed `entry` is parsed from `leaf`.
  const std::vector<haven::v1::IndexedEntry>* entries = nullptr;
};

struct ReconcileFinding {
  enum class Type {
    kUnpaired,   // an entry with no partner at the other node
    kDuplicate,  // a request id on record twice at one node
    kMismatch,   // the two entries of a pair disagree on `field`
  };
  Type type = Type::kMismatch;
  std::string request_id;
  // kMismatch: kind, purpose, asked, given, withheld, policy_version,
  // consent_ids or time.
  std::string field;
  // The entry at side a and side b (kDuplicate: both at the side named by
  // which index is set, in `index_a`/`index_b` and `duplicate_index`).
  std::optional<uint64_t> index_a;
  std::optional<uint64_t> index_b;
  std::optional<uint64_t> duplicate_index;
  // kMismatch: each side's value of `field`. kUnpaired: the kind.
  std::string value_a;
  std::string value_b;
};

struct ReconcileReport {
  int paired = 0;  // request ids on record at both nodes
  std::vector<ReconcileFinding> findings;  // sorted by request id
};

// Pairs side a's exchange entries about side b with side b's about side a
// and reports every unpaired entry, duplicate request id and field the two
// entries of a pair disagree on (each its own finding).
ReconcileReport ReconcileExchanges(const ReconcileSide& a,
                                   const ReconcileSide& b,
                                   const ReconcileOptions& options = {});

// One line describing `finding`, naming the sides by agency id.
std::string DescribeFinding(const ReconcileFinding& finding,
                            absl::string_view agency_a,
                            absl::string_view agency_b);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_VERIFY_RECONCILE_H_
