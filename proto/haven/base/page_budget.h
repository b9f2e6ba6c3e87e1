// PageBudget: what one page of a read API may still take, by count and by
// bytes (limits.h: kMaxReadBytes and the per-API counts). Items are the
// serialized messages of a repeated field, each counted with its field tag
// and length, so a page of them stays within the budget on the wire.
//
// The first item is always taken, whatever its size, so that a reader that
// continues from the items it got always makes progress; whether one item
// alone is too large to send is the caller's question.
//
//   PageBudget budget(max_count, limits::kMaxReadBytes);
//   for (...) {
//     if (!budget.Take(item.ByteSizeLong())) break;
//     page.push_back(item);
//   }
//
// Not thread-safe.
#ifndef HAVEN_BASE_PAGE_BUDGET_H_
#define HAVEN_BASE_PAGE_BUDGET_H_

#include <cstddef>

#include "google/protobuf/io/coded_stream.h"

namespace haven {

class PageBudget {
 public:
  PageBudget(size_t max_count, size_t max_bytes)
      : max_count_(max_count), max_bytes_(max_bytes) {}

  // Whether an item of `item_bytes` (serialized) fits in the page; if so,
  // it is counted.
  bool Take(size_t item_bytes) {
    const size_t bytes =
        1 + google::protobuf::io::CodedOutputStream::VarintSize64(item_bytes) +
        item_bytes;
    if (count_ >= max_count_) return false;
    if (count_ > 0 && used_ + bytes > max_bytes_) return false;
    ++count_;
    used_ += bytes;
    return true;
  }

  size_t count() const { return count_; }
  // Bytes taken so far (may pass max_bytes by the first item alone).
  size_t used() const { return used_; }

 private:
  const size_t max_count_;
  const size_t max_bytes_;
  size_t count_ = 0;
  size_t used_ = 0;
};

}  // namespace haven

#endif  // HAVEN_BASE_PAGE_BUDGET_H_
