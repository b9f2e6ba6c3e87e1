#include "server/consent/consent_registry.h"

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "haven/base/status_macros.h"
#include "server/consent/receipt.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::consent {
namespace {

using haven::v1::Consent;
using haven::v1::ConsentReceipt;
using haven::v1::Refusal;

constexpr char kConsentPrefix[] = "c/";
constexpr char kUsePrefix[] = "u/";
constexpr char kRefusalPrefix[] = "r/";

std::string VersionKey(absl::string_view id, uint32_t version) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", version);
  return absl::StrCat(kConsentPrefix, id, "/", buf);
}

absl::Status ValidateTerms(const Consent& c) {
  if (c.subject_id().empty()) {
    return absl::InvalidArgumentError("consent: subject_id is required");
  }
  if (c.grantee().has_agency_id()) {
    if (c.grantee().agency_id().empty()) {
      return absl::InvalidArgumentError(
          "consent: grantee.agency_id must not be empty");
    }
  } else if (c.grantee().has_sector()) {
    if (c.grantee().sector() == haven::v1::SECTOR_UNSPECIFIED ||
        !haven::v1::Sector_IsValid(c.grantee().sector())) {
      return absl::InvalidArgumentError(
          "consent: grantee.sector must be a known sector");
    }
  } else {
    return absl::InvalidArgumentError(
        "consent: grantee (an agency id or a sector) is required");
  }
  if (c.purposes_size() == 0) {
    return absl::InvalidArgumentError(
        "consent: at least one purpose is required");
  }
  for (int p : c.purposes()) {
    if (p == haven::v1::PURPOSE_UNSPECIFIED || !haven::v1::Purpose_IsValid(p)) {
      return absl::InvalidArgumentError(
          "consent: purposes must be known purposes");
    }
  }
  if (c.categories_size() == 0) {
    return absl::InvalidArgumentError(
        "consent: at least one category is required");
  }
  for (int cat : c.categories()) {
    if (cat == haven::v1::CATEGORY_UNSPECIFIED ||
        !haven::v1::Category_IsValid(cat)) {
      return absl::InvalidArgumentError(
          "consent: categories must be known categories");
    }
  }
  if (c.valid().until_unix() <= c.valid().from_unix()) {
    return absl::InvalidArgumentError(
        "consent: valid.until_unix is required and must be after "
        "valid.from_unix");
  }
  if (c.data_life_seconds() < 0) {
    return absl::InvalidArgumentError(
        "consent: data_life_seconds must not be negative");
  }
  if (c.use_limit().period_seconds() < 0) {
    return absl::InvalidArgumentError(
        "consent: use_limit.period_seconds must not be negative");
  }
  if (!c.evidence_sha256().empty() && c.evidence_sha256().size() != 32) {
    return absl::InvalidArgumentError(
        "consent: evidence_sha256 must be 32 bytes when set");
  }
  return absl::OkStatus();
}

std::string EncodeUse(uint64_t total, int64_t last,
                      const policy::UseWindow& w) {
  return absl::StrCat(total, " ", last, " ", w.start_unix, " ", w.uses);
}

bool DecodeUse(const std::string& value, uint64_t& total, int64_t& last,
               policy::UseWindow& w) {
  unsigned long long t = 0;
  long long l = 0, s = 0;
  unsigned int u = 0;
  if (std::sscanf(value.c_str(), "%llu %lld %lld %u", &t, &l, &s, &u) != 4) {
    return false;
  }
  total = t;
  last = l;
  w.start_unix = s;
  w.uses = u;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsentRegistry>> ConsentRegistry::Create(
    Options options) {
  if (options.store == nullptr || options.clock == nullptr ||
      options.signer == nullptr) {
    return absl::InvalidArgumentError(
        "consent registry needs a store, a clock and a signer");
  }
  std::unique_ptr<ConsentRegistry> registry(
      new ConsentRegistry(std::move(options)));
  HAVEN_RETURN_IF_ERROR(registry->Load());
  return registry;
}

absl::Status ConsentRegistry::Load() {
  absl::MutexLock lock(&mu_);
  bool bad = false;
  HAVEN_RETURN_IF_ERROR(options_.store->Scan(
      kConsentPrefix, [&](const std::string&, const std::string& value) {
        Consent c;
        if (!c.ParseFromString(value)) {
          bad = true;
          return;
        }
        Entry& entry = consents_[c.consent_id()];
        if (entry.history.empty()) {
          subject_consents_[c.subject_id()].push_back(c.consent_id());
        }
        entry.history.push_back(std::move(c));
      }));
  HAVEN_RETURN_IF_ERROR(options_.store->Scan(
      kUsePrefix, [&](const std::string& key, const std::string& value) {
        auto it = consents_.find(key.substr(sizeof(kUsePrefix) - 1));
        if (it == consents_.end()) return;
        UseState& u = it->second.use;
        if (!DecodeUse(value, u.total, u.last_unix, u.window)) bad = true;
      }));
  HAVEN_RETURN_IF_ERROR(options_.store->Scan(
      kRefusalPrefix, [&](const std::string&, const std::string& value) {
        Refusal r;
        if (!r.ParseFromString(value)) {
          bad = true;
          return;
        }
        subject_refusals_[r.subject_id()].push_back(r.refusal_id());
        refusals_[r.refusal_id()] = std::move(r);
      }));
  if (bad)
    return absl::DataLossError("consent store holds an unreadable value");
  std::vector<std::string> subjects;
  for (const auto& [subject, ids] : subject_consents_)
    subjects.push_back(subject);
  for (const auto& [subject, ids] : subject_refusals_)
    subjects.push_back(subject);
  for (const std::string& s : subjects) Publish(s);
  return absl::OkStatus();
}

void ConsentRegistry::Publish(const std::string& subject_id) {
  auto compiled = std::make_shared<policy::CompiledConsents>();
  if (auto it = subject_refusals_.find(subject_id);
      it != subject_refusals_.end()) {
    for (const std::string& id : it->second) {
      const Refusal& r = refusals_.at(id);
      if (r.active()) {
        compiled->refused = true;
        compiled->refusal_id = r.refusal_id();
        break;
      }
    }
  }
  if (auto it = subject_consents_.find(subject_id);
      it != subject_consents_.end()) {
    for (const std::string& id : it->second) {
      const Entry& entry = consents_.at(id);
      compiled->consents.push_back(policy::ConsentView::FromProto(
          entry.history.back(), entry.use.window));
    }
  }
  snapshots_[subject_id] = std::move(compiled);
}

Consent ConsentRegistry::WithUse(const Entry& entry) const {
  Consent c = entry.history.back();
  c.set_use_count(entry.use.total);
  c.set_last_used_unix(entry.use.last_unix);
  if (c.status() == haven::v1::ACTIVE &&
      options_.clock->NowUnix() >= c.valid().until_unix()) {
    c.set_status(haven::v1::EXPIRED);
  }
  return c;
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Record(
    const Consent& terms, absl::string_view actor) {
  HAVEN_RETURN_IF_ERROR(ValidateTerms(terms));
  Consent c = terms;
  c.set_consent_id(crypto::RandomHexId(16));
  c.set_version(1);
  c.set_status(haven::v1::ACTIVE);
  c.set_status_reason("");
  c.set_recorded_by(std::string(actor));
  c.set_recorded_unix(options_.clock->NowUnix());
  c.set_use_count(0);
  c.set_last_used_unix(0);
  absl::MutexLock write(&write_mu_);
  HAVEN_RETURN_IF_ERROR(options_.store->Write(
      {{VersionKey(c.consent_id(), 1), c.SerializeAsString()}}));
  {
    absl::MutexLock lock(&mu_);
    consents_[c.consent_id()].history.push_back(c);
    subject_consents_[c.subject_id()].push_back(c.consent_id());
    Publish(c.subject_id());
  }
  return SignReceipt(c, *options_.signer, options_.issuer);
}

absl::StatusOr<Consent> ConsentRegistry::Current(
    absl::string_view consent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = consents_.find(std::string(consent_id));
  if (it == consents_.end()) {
    return absl::NotFoundError("no consent with that id");
  }
  return it->second.history.back();
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::AppendVersion(Consent next) {
  next.set_version(next.version() + 1);
  next.set_recorded_unix(options_.clock->NowUnix());
  next.set_use_count(0);
  next.set_last_used_unix(0);
  HAVEN_RETURN_IF_ERROR(
      options_.store->Write({{VersionKey(next.consent_id(), next.version()),
                              next.SerializeAsString()}}));
  {
    absl::MutexLock lock(&mu_);
    consents_[next.consent_id()].history.push_back(next);
    Publish(next.subject_id());
  }
  return SignReceipt(next, *options_.signer, options_.issuer);
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Amend(
    absl::string_view consent_id, const Consent& terms,
    absl::string_view actor) {
  absl::MutexLock write(&write_mu_);
  HAVEN_ASSIGN_OR_RETURN(Consent current, Current(consent_id));
  if (current.status() == haven::v1::REVOKED) {
    return absl::FailedPreconditionError("a revoked consent cannot be amended");
  }
  Consent next = terms;
  next.set_subject_id(current.subject_id());
  HAVEN_RETURN_IF_ERROR(ValidateTerms(next));
  next.set_consent_id(current.consent_id());
  next.set_version(current.version());
  next.set_status(current.status());
  next.set_status_reason(current.status_reason());
  next.set_recorded_by(std::string(actor));
  return AppendVersion(std::move(next));
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Pause(
    absl::string_view consent_id, absl::string_view reason,
    absl::string_view actor) {
  if (reason.empty()) {
    return absl::InvalidArgumentError("pausing a consent needs a reason");
  }
  absl::MutexLock write(&write_mu_);
  HAVEN_ASSIGN_OR_RETURN(Consent next, Current(consent_id));
  if (next.status() != haven::v1::ACTIVE) {
    return absl::FailedPreconditionError(
        "only an active consent can be paused");
  }
  next.set_status(haven::v1::PAUSED);
  next.set_status_reason(std::string(reason));
  next.set_recorded_by(std::string(actor));
  return AppendVersion(std::move(next));
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Resume(
    absl::string_view consent_id, absl::string_view actor) {
  absl::MutexLock write(&write_mu_);
  HAVEN_ASSIGN_OR_RETURN(Consent next, Current(consent_id));
  if (next.status() != haven::v1::PAUSED) {
    return absl::FailedPreconditionError(
        "only a paused consent can be resumed");
  }
  next.set_status(haven::v1::ACTIVE);
  next.set_status_reason("");
  next.set_recorded_by(std::string(actor));
  return AppendVersion(std::move(next));
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Revoke(
    absl::string_view consent_id, absl::string_view reason,
    absl::string_view actor) {
  if (reason.empty()) {
    return absl::InvalidArgumentError("revoking a consent needs a reason");
  }
  absl::MutexLock write(&write_mu_);
  HAVEN_ASSIGN_OR_RETURN(Consent next, Current(consent_id));
  if (next.status() == haven::v1::REVOKED) {
    return absl::FailedPreconditionError("the consent is already revoked");
  }
  next.set_status(haven::v1::REVOKED);
  next.set_status_reason(std::string(reason));
  next.set_recorded_by(std::string(actor));
  return AppendVersion(std::move(next));
}

absl::StatusOr<Refusal> ConsentRegistry::RecordRefusal(
    absl::string_view subject_id, absl::string_view evidence_sha256,
    absl::string_view actor) {
  if (subject_id.empty()) {
    return absl::InvalidArgumentError("refusal: subject_id is required");
  }
  if (!evidence_sha256.empty() && evidence_sha256.size() != 32) {
    return absl::InvalidArgumentError(
        "refusal: evidence_sha256 must be 32 bytes when set");
  }
  Refusal r;
  r.set_refusal_id(crypto::RandomHexId(16));
  r.set_subject_id(std::string(subject_id));
  r.set_active(true);
  r.set_recorded_by(std::string(actor));
  r.set_recorded_unix(options_.clock->NowUnix());
  r.set_evidence_sha256(std::string(evidence_sha256));
  absl::MutexLock write(&write_mu_);
  HAVEN_RETURN_IF_ERROR(options_.store->Write(
      {{absl::StrCat(kRefusalPrefix, r.refusal_id()), r.SerializeAsString()}}));
  absl::MutexLock lock(&mu_);
  refusals_[r.refusal_id()] = r;
  subject_refusals_[r.subject_id()].push_back(r.refusal_id());
  Publish(r.subject_id());
  return r;
}

absl::StatusOr<Refusal> ConsentRegistry::LiftRefusal(
    absl::string_view refusal_id, absl::string_view actor) {
  absl::MutexLock write(&write_mu_);
  Refusal r;
  {
    absl::MutexLock lock(&mu_);
    auto it = refusals_.find(std::string(refusal_id));
    if (it == refusals_.end()) {
      return absl::NotFoundError("no refusal with that id");
    }
    r = it->second;
  }
  if (!r.active()) {
    return absl::FailedPreconditionError("the refusal is already lifted");
  }
  r.set_active(false);
  r.set_lifted_unix(options_.clock->NowUnix());
  HAVEN_RETURN_IF_ERROR(options_.store->Write(
      {{absl::StrCat(kRefusalPrefix, r.refusal_id()), r.SerializeAsString()}}));
  absl::MutexLock lock(&mu_);
  refusals_[r.refusal_id()] = r;
  Publish(r.subject_id());
  return r;
}

absl::StatusOr<std::vector<Consent>> ConsentRegistry::Get(
    absl::string_view consent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = consents_.find(std::string(consent_id));
  if (it == consents_.end()) {
    return absl::NotFoundError("no consent with that id");
  }
  std::vector<Consent> history = it->second.history;
  history.back() = WithUse(it->second);
  return history;
}

haven::v1::ListConsentsResponse ConsentRegistry::List(
    absl::string_view subject_id) const {
  haven::v1::ListConsentsResponse response;
  absl::MutexLock lock(&mu_);
  const std::string subject(subject_id);
  if (auto it = subject_consents_.find(subject);
      it != subject_consents_.end()) {
    for (const std::string& id : it->second) {
      *response.add_consents() = WithUse(consents_.at(id));
    }
  }
  if (auto it = subject_refusals_.find(subject);
      it != subject_refusals_.end()) {
    for (const std::string& id : it->second) {
      *response.add_refusals() = refusals_.at(id);
    }
  }
  return response;
}

std::shared_ptr<const policy::CompiledConsents> ConsentRegistry::Snapshot(
    absl::string_view subject_id) const {
  absl::MutexLock lock(&mu_);
  auto it = snapshots_.find(std::string(subject_id));
  if (it == snapshots_.end()) return policy::EmptyConsents();
  return it->second;
}

absl::StatusOr<ConsentRegistry::TakenUses> ConsentRegistry::ConsumeUses(
    const std::vector<std::string>& consent_ids, int64_t now_unix) {
  TakenUses uses;
  if (consent_ids.empty()) return uses;
  uint64_t ticket = 0;
  {
    absl::MutexLock lock(&mu_);
    // Check every consent before counting any: all or none.
    for (const std::string& id : consent_ids) {
      auto it = consents_.find(id);
      if (it == consents_.end()) {
        return absl::NotFoundError("no consent with that id");
      }
      const policy::ConsentView view = policy::ConsentView::FromProto(
          it->second.history.back(), it->second.use.window);
      if (haven::v1::DecisionReason reason = view.UnusableReason(now_unix);
          reason != haven::v1::DECISION_REASON_UNSPECIFIED) {
        return absl::FailedPreconditionError(
            absl::StrCat("consent can no longer be used: ",
                         haven::v1::DecisionReason_Name(reason)));
      }
    }
    for (const std::string& id : consent_ids) {
      Entry& entry = consents_.at(id);
      UseState& use = entry.use;
      const int64_t period = entry.history.back().use_limit().period_seconds();
      if (use.window.uses == 0 ||
          (period > 0 && now_unix - use.window.start_unix >= period)) {
        use.window.start_unix = now_unix;
        use.window.uses = 0;
      }
      ++use.window.uses;
      ++use.total;
      use.last_unix = now_unix;
      uses.taken.emplace_back(id, use.window.start_unix);
      ticket = QueueUseWrite(id, entry);
    }
  }
  HAVEN_RETURN_IF_ERROR(WritePendingUses(ticket));
  return uses;
}

absl::Status ConsentRegistry::ReturnUses(const TakenUses& uses) {
  if (uses.taken.empty()) return absl::OkStatus();
  uint64_t ticket = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, window_start] : uses.taken) {
      auto it = consents_.find(id);
      if (it == consents_.end()) continue;
      UseState& use = it->second.use;
      if (use.total > 0) --use.total;
      if (use.window.start_unix == window_start && use.window.uses > 0) {
        --use.window.uses;
      }
      ticket = QueueUseWrite(id, it->second);
    }
  }
  return WritePendingUses(ticket);
}

uint64_t ConsentRegistry::QueueUseWrite(const std::string& consent_id,
                                        const Entry& entry) {
  const UseState& use = entry.use;
  pending_uses_[absl::StrCat(kUsePrefix, consent_id)] =
      EncodeUse(use.total, use.last_unix, use.window);
  Publish(entry.history.back().subject_id());
  return ++uses_counted_;
}

absl::Status ConsentRegistry::WritePendingUses(uint64_t ticket) {
  // Whoever holds use_commit_mu_ writes every count made so far in one
  // batch, so the threads queued behind it usually find theirs written, and
  // counts reach the store in the order they were taken.
  absl::MutexLock commit(&use_commit_mu_);
  ConsentStore::KeyValues batch;
  uint64_t counted = 0;
  {
    absl::MutexLock lock(&mu_);
    if (uses_written_ >= ticket) return absl::OkStatus();
    batch.assign(pending_uses_.begin(), pending_uses_.end());
    pending_uses_.clear();
    counted = uses_counted_;
  }
  absl::Status written = options_.store->WriteUnsynced(batch);
  absl::MutexLock lock(&mu_);
  if (!written.ok()) {
    // Keep the counts for the next writer unless a newer count replaced one.
    // The in-memory counts stay: counting a use that was never made only
    // ever refuses more.
    for (auto& [key, value] : batch) {
      pending_uses_.try_emplace(key, std::move(value));
    }
    return written;
  }
  uses_written_ = counted;
  return absl::OkStatus();
}

}  // namespace haven::server::consent
