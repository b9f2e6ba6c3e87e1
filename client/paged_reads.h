// Paged reads: the node's long lists (audit entries, a subject's access
// report, subject handles) read to the end, page by page, with the checks
// that keep a broken or hostile node from making a reader loop, skip or
// repeat. Every command and tool that pages uses these.
//
// Thread-compatible: an EntryPager is used by one thread; the functions
// are thread-safe as NodeClient is.
#ifndef HAVEN_CLIENT_PAGED_READS_H_
#define HAVEN_CLIENT_PAGED_READS_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/node_client.h"

namespace haven::client {

// Audit entries from `start`, in order, each exactly once. A node may
// return fewer entries than asked (its reads are bounded by bytes), so each
// page starts after the last entry the one before returned. Entries come
// with their parsed AuditEntry filled in (CompleteEntry).
class EntryPager {
 public:
  static constexpr uint64_t kPageSize = 1000;
  static constexpr uint64_t kToEnd = std::numeric_limits<uint64_t>::max();

  // Entries [start, end); with kToEnd, until the node has no more, asking
  // for at most `page_size` (1 to kPageSize) a call. `client` must outlive
  // the pager.
  EntryPager(const NodeClient& client, uint64_t start, uint64_t end = kToEnd,
             uint64_t page_size = kPageSize)
      : client_(client), next_(start), end_(end), page_size_(page_size) {}

  // The next page; empty when done. The node's status on a failed call;
  // DATA_LOSS if the node skips or repeats an index, or returns nothing
  // before a bounded range's end.
  absl::StatusOr<std::vector<v1::IndexedEntry>> NextPage();

  // The index the next page starts at (one past the last entry returned).
  uint64_t next_index() const { return next_; }

 private:
  const NodeClient& client_;
  uint64_t next_;
  const uint64_t end_;
  const uint64_t page_size_;
};

// Every audit entry in [start, end), as EntryPager reads them; with
// EntryPager::kToEnd, up to the end of the log as the node has it now.
absl::StatusOr<std::vector<v1::IndexedEntry>> FetchEntries(
    const NodeClient& client, uint64_t start, uint64_t end);

// Every entry of `subject_id`'s access report, all pages joined into one
// response. DATA_LOSS if the node's pages do not advance.
absl::StatusOr<v1::SubjectAccessReportResponse> FetchSubjectAccessReport(
    const NodeClient& client, const std::string& subject_id);

// Every handle other agencies issued to this node, all pages joined.
// DATA_LOSS if the node's pages do not advance.
absl::StatusOr<v1::ListHandlesResponse> ListAllHandles(
    const NodeClient& client);

}  // namespace haven::client

#endif  // HAVEN_CLIENT_PAGED_READS_H_
