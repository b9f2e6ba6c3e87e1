#include "server/exchange/peer_outbox.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::exchange {
namespace {

using storage::Family;

constexpr char kOutboxPrefix[] = "o/";

// Zero-padded so that keys sort oldest first.
std::string OutboxKey(absl::Time now) {
  char stamp[24];
  std::snprintf(stamp, sizeof(stamp), "%020lld",
                static_cast<long long>(absl::ToUnixNanos(now)));
  return absl::StrCat(kOutboxPrefix, stamp, "/", crypto::RandomHexId(8));
}

std::string Place(absl::string_view key) {
  return absl::StrCat("exchange/", key);
}

}  // namespace

void PeerOutbox::Add(haven::v1::OutboxMessage message, absl::Time now,
                     storage::WriteBatch* batch) const {
  message.set_created_unix(absl::ToUnixSeconds(now));
  message.set_attempts(0);
  std::string key = OutboxKey(now);
  std::string sealed = sealer_->Seal(Place(key), message.SerializeAsString());
  batch->Put(Family::kExchange, std::move(key), std::move(sealed));
}

bool PeerOutbox::IsPermanent(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kNotFound:
      return true;
    default:
      return false;
  }
}

PeerOutbox::PassResult PeerOutbox::DeliverPending(const Sender& send) {
  {
    absl::MutexLock lock(&mu_);
    if (delivering_) {
      again_ = true;
      return {};
    }
    delivering_ = true;
  }
  PassResult total;
  while (true) {
    PassResult pass = OnePass(send);
    total.delivered += pass.delivered;
    total.dropped += pass.dropped;
    total.pending = pass.pending;
    if (!pass.status.ok()) total.status = pass.status;
    absl::MutexLock lock(&mu_);
    if (!again_) {
      delivering_ = false;
      return total;
    }
    again_ = false;
  }
}

absl::flat_hash_map<std::string, int64_t> PeerOutbox::PendingByPeer() const {
  absl::MutexLock lock(&mu_);
  return pending_by_peer_;
}

PeerOutbox::PassResult PeerOutbox::OnePass(const Sender& send) {
  PassResult result;
  // Every peer owed something at the start of the pass, with what it is
  // still owed at the end (0 once all is delivered).
  absl::flat_hash_map<std::string, int64_t> pending_by_peer;
  struct Publish {
    PeerOutbox* outbox;
    absl::flat_hash_map<std::string, int64_t>* counts;
    ~Publish() {
      absl::MutexLock lock(&outbox->mu_);
      outbox->pending_by_peer_ = std::move(*counts);
    }
  };
  std::vector<std::pair<std::string, std::string>> stored;
  result.status =
      storage_->Scan(Family::kExchange, kOutboxPrefix,
                     [&](absl::string_view key, absl::string_view value) {
                       stored.emplace_back(key, value);
                       return true;
                     });
  if (!result.status.ok()) return result;
  Publish publish{this, &pending_by_peer};
  absl::flat_hash_set<std::string> unreachable;
  for (auto& [key, value] : stored) {
    absl::StatusOr<std::string> plain =
        sealer_->Open(Place(key), value, "a stored peer outbox message");
    haven::v1::OutboxMessage message;
    if (!plain.ok() || !message.ParseFromString(*plain)) {
      // Never sent: an altered message is not obeyed, and it stays for
      // the operator to see.
      result.status = plain.ok() ? absl::DataLossError(
                                       "a stored peer outbox message is "
                                       "malformed")
                                 : plain.status();
      continue;
    }
    // One failed try per peer per pass: a peer that is down costs one
    // timeout, not one per message it is owed.
    int64_t& owed = pending_by_peer[message.to_agency_id()];
    if (unreachable.contains(message.to_agency_id())) {
      ++result.pending;
      ++owed;
      continue;
    }
    absl::Status sent = send(message);
    if (sent.ok() || IsPermanent(sent)) {
      storage::WriteBatch remove;
      remove.Delete(Family::kExchange, key);
      // At least once: if this is lost, the peer gets the message again.
      if (absl::Status removed = log_->CommitState(std::move(remove));
          !removed.ok()) {
        result.status = removed;
        return result;
      }
      ++(sent.ok() ? result.delivered : result.dropped);
      continue;
    }
    unreachable.insert(message.to_agency_id());
    ++result.pending;
    ++owed;
  }
  return result;
}

}  // namespace haven::server::exchange
