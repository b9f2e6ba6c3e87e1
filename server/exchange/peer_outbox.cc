#include "server/exchange/peer_outbox.h"

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::exchange {
namespace {

constexpr char kOutboxPrefix[] = "exchange/outbox/";

// Zero-padded so that keys sort oldest first.
std::string OutboxKey(absl::Time now) {
  char stamp[24];
  std::snprintf(stamp, sizeof(stamp), "%020lld",
                static_cast<long long>(absl::ToUnixNanos(now)));
  return absl::StrCat(kOutboxPrefix, stamp, "/", crypto::RandomHexId(8));
}

}  // namespace

absl::Status PeerOutbox::Add(haven::v1::OutboxMessage message, absl::Time now) {
  if (message.to_agency_id().empty() ||
      message.message_case() == haven::v1::OutboxMessage::MESSAGE_NOT_SET) {
    return absl::InvalidArgumentError("outbox message needs a peer and a body");
  }
  message.set_created_unix(absl::ToUnixSeconds(now));
  message.set_attempts(0);
  return storage::FromRocksDb(
      db_->db()->Put(storage::SyncedWrite(),
                     db_->family(storage::Family::kMeta), OutboxKey(now),
                     message.SerializeAsString()),
      "store outbox message");
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
    absl::MutexLock lock(&mu_);
    if (!again_) {
      delivering_ = false;
      return total;
    }
    again_ = false;
  }
}

PeerOutbox::PassResult PeerOutbox::OnePass(const Sender& send) {
  auto* family = db_->family(storage::Family::kMeta);
  std::vector<std::pair<std::string, std::string>> stored;
  {
    const rocksdb::Slice prefix(kOutboxPrefix);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db()->NewIterator(rocksdb::ReadOptions(), family));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      stored.emplace_back(it->key().ToString(), it->value().ToString());
    }
  }
  PassResult result;
  absl::flat_hash_set<std::string> unreachable;
  for (auto& [key, value] : stored) {
    haven::v1::OutboxMessage message;
    if (!message.ParseFromString(value)) {
      // Unreadable: it can never be sent, and keeping it would stall nothing
      // but clutter every pass.
      (void)db_->db()->Delete(storage::SyncedWrite(), family, key);
      ++result.dropped;
      continue;
    }
    // One failed try per peer per pass: a peer that is down costs one
    // timeout, not one per message it is owed.
    if (unreachable.contains(message.to_agency_id())) {
      ++result.pending;
      continue;
    }
    absl::Status sent = send(message);
    if (sent.ok() || IsPermanent(sent)) {
      (void)db_->db()->Delete(storage::SyncedWrite(), family, key);
      ++(sent.ok() ? result.delivered : result.dropped);
      continue;
    }
    unreachable.insert(message.to_agency_id());
    message.set_attempts(message.attempts() + 1);
    (void)db_->db()->Put(rocksdb::WriteOptions(), family, key,
                         message.SerializeAsString());
    ++result.pending;
  }
  return result;
}

}  // namespace haven::server::exchange
