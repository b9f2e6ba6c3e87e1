#include "server/storage/storage.h"

#include <utility>

namespace haven::server::storage {

absl::string_view FamilyName(Family family) {
  switch (family) {
    case Family::kMeta:
      return "meta";
    case Family::kVault:
      return "vault";
    case Family::kConsent:
      return "consent";
    case Family::kExchange:
      return "exchange";
    case Family::kAudit:
      return "audit";
  }
  return "unknown";
}

void WriteBatch::Put(Family family, std::string key, std::string value) {
  bytes_ += key.size() + value.size();
  ops_.push_back({family, std::move(key), std::move(value)});
}

void WriteBatch::Delete(Family family, std::string key) {
  bytes_ += key.size();
  ops_.push_back({family, std::move(key), std::nullopt});
}

void WriteBatch::Append(WriteBatch other) {
  if (ops_.empty()) {
    *this = std::move(other);
    return;
  }
  bytes_ += other.bytes_;
  ops_.reserve(ops_.size() + other.ops_.size());
  for (Op& op : other.ops_) ops_.push_back(std::move(op));
}

bool IsValidSideFileName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

void Storage::OnWriteFailure(
    absl::AnyInvocable<void(const absl::Status&)> handler) {
  absl::MutexLock lock(&handler_mu_);
  on_failure_ = std::move(handler);
}

absl::Status Storage::Stopped() {
  return absl::UnavailableError(
      "storage stopped after a failed write; the node must restart");
}

absl::Status Storage::Fail(absl::Status failure) {
  if (!stopped_.exchange(true, std::memory_order_acq_rel)) {
    absl::AnyInvocable<void(const absl::Status&)> handler;
    {
      absl::MutexLock lock(&handler_mu_);
      handler = std::move(on_failure_);
    }
    if (handler) handler(failure);
  }
  // The caller learns that the write failed and the node is stopping; the
  // cause, which may name files, went to the handler (the operator's log).
  return absl::UnavailableError(
      "storage write failed; the node is stopping and must be restarted");
}

absl::Status Storage::Write(const WriteBatch& batch, bool sync) {
  if (stopped()) return Stopped();
  if (batch.empty()) return absl::OkStatus();
  absl::Status written = DoWrite(batch, sync);
  if (!written.ok()) return Fail(std::move(written));
  return absl::OkStatus();
}

absl::Status Storage::Compact(Family family, absl::string_view begin,
                              absl::string_view end) {
  if (stopped()) return Stopped();
  absl::Status compacted = DoCompact(family, begin, end);
  if (!compacted.ok()) return Fail(std::move(compacted));
  return absl::OkStatus();
}

// Side files are written even after a stop: they are how a stopped node
// tells its next start what it could not confirm.
absl::Status Storage::WriteSideFile(absl::string_view name,
                                    absl::string_view bytes) {
  if (!IsValidSideFileName(name)) {
    return absl::InvalidArgumentError("side file names are [a-z0-9-]+");
  }
  absl::Status written = DoWriteSideFile(name, bytes);
  if (!written.ok()) return Fail(std::move(written));
  return absl::OkStatus();
}

absl::Status Storage::OverwriteSideFile(absl::string_view name, size_t offset,
                                        absl::string_view bytes) {
  if (!IsValidSideFileName(name)) {
    return absl::InvalidArgumentError("side file names are [a-z0-9-]+");
  }
  absl::Status written = DoOverwriteSideFile(name, offset, bytes);
  if (!written.ok()) return Fail(std::move(written));
  return absl::OkStatus();
}

absl::Status Storage::RemoveSideFile(absl::string_view name) {
  if (!IsValidSideFileName(name)) {
    return absl::InvalidArgumentError("side file names are [a-z0-9-]+");
  }
  absl::Status removed = DoRemoveSideFile(name);
  if (!removed.ok()) return Fail(std::move(removed));
  return absl::OkStatus();
}

}  // namespace haven::server::storage
