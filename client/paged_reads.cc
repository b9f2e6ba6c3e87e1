#include "client/paged_reads.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/indexed_entry.h"

namespace haven::client {

absl::StatusOr<std::vector<v1::IndexedEntry>> EntryPager::NextPage() {
  std::vector<v1::IndexedEntry> page;
  if (next_ >= end_) return page;
  v1::GetEntriesRequest request;
  request.set_start(next_);
  request.set_count(std::min(page_size_, end_ - next_));
  absl::StatusOr<v1::GetEntriesResponse> response = client_.GetEntries(request);
  if (!response.ok()) return response.status();
  if (response->entries().empty() && end_ != kToEnd) {
    return absl::DataLossError(
        absl::StrCat("the node returned no entry at index ", next_,
                     " (log size ", end_, ")"));
  }
  for (v1::IndexedEntry& entry : *response->mutable_entries()) {
    if (entry.index() != next_) {
      return absl::DataLossError(absl::StrCat(
          "the node returned entry ", entry.index(), " for index ", next_));
    }
    CompleteEntry(&entry);
    page.push_back(std::move(entry));
    if (++next_ == end_) break;
  }
  return page;
}

absl::StatusOr<std::vector<v1::IndexedEntry>> FetchEntries(
    const NodeClient& client, uint64_t start, uint64_t end) {
  std::vector<v1::IndexedEntry> out;
  EntryPager pager(client, start, end);
  while (pager.next_index() < end) {
    absl::StatusOr<std::vector<v1::IndexedEntry>> page = pager.NextPage();
    if (!page.ok()) return page.status();
    // An empty page is the end of the log (a bounded range's early end is
    // DATA_LOSS in NextPage): without this, reading to kToEnd never ends.
    if (page->empty()) break;
    std::move(page->begin(), page->end(), std::back_inserter(out));
  }
  return out;
}

absl::StatusOr<v1::SubjectAccessReportResponse> FetchSubjectAccessReport(
    const NodeClient& client, const std::string& subject_id) {
  v1::SubjectAccessReportResponse all;
  v1::SubjectAccessReportRequest request;
  request.set_subject_id(subject_id);
  while (true) {
    absl::StatusOr<v1::SubjectAccessReportResponse> page =
        client.SubjectAccessReport(request);
    if (!page.ok()) return page.status();
    for (auto& e : *page->mutable_entries()) *all.add_entries() = std::move(e);
    if (page->next_start() == 0) return all;
    if (page->next_start() <= request.start()) {
      return absl::DataLossError("the node's report pages do not advance");
    }
    request.set_start(page->next_start());
  }
}

absl::StatusOr<v1::ListHandlesResponse> ListAllHandles(
    const NodeClient& client) {
  v1::ListHandlesResponse all;
  v1::ListHandlesRequest request;
  while (true) {
    absl::StatusOr<v1::ListHandlesResponse> page = client.ListHandles(request);
    if (!page.ok()) return page.status();
    for (auto& h : *page->mutable_handles()) *all.add_handles() = std::move(h);
    if (page->next_page_token().empty()) return all;
    // Tokens name the next page's first handle, in key order.
    if (page->handles().empty() ||
        page->next_page_token() <= request.page_token()) {
      return absl::DataLossError(
          "the node's handle pages do not advance; listing stopped");
    }
    request.set_page_token(page->next_page_token());
  }
}

}  // namespace haven::client
