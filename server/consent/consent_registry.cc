#include "server/consent/consent_registry.h"

#include <cinttypes>
#include <cstdio>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "haven/base/status_macros.h"
#include "haven/base/text.h"
#include "server/consent/receipt.h"
#include "server/crypto/key_derivation.h"

namespace haven::server::consent {
namespace {

// 1 to `max` values of an enum (`name` in messages), each known and not its
// unspecified 0.
absl::Status CheckKnownValues(
    const google::protobuf::RepeatedField<int>& values, int max,
    bool (*is_valid)(int), absl::string_view name) {
  if (values.empty() || values.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("consent: 1 to ", max, " ", name, " are required"));
  }
  for (int value : values) {
    if (value == 0 || !is_valid(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("consent: ", name, " must be known ", name));
    }
  }
  return absl::OkStatus();
}

using haven::v1::Consent;
using haven::v1::ConsentReceipt;
using haven::v1::Refusal;
using storage::Family;

constexpr char kConsentPrefix[] = "c/";
constexpr char kUsePrefix[] = "u/";
constexpr char kRefusalPrefix[] = "r/";

std::string VersionKey(absl::string_view id, uint32_t version) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08x", version);
  return absl::StrCat(kConsentPrefix, id, "/", buf);
}

std::string UseKey(absl::string_view id) {
  return absl::StrCat(kUsePrefix, id);
}

std::string RefusalKey(absl::string_view id) {
  return absl::StrCat(kRefusalPrefix, id);
}

bool IsAgencyId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
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

std::string GranteeText(const haven::v1::Grantee& grantee) {
  return grantee.has_agency_id()
             ? absl::StrCat("agency ", grantee.agency_id())
             : absl::StrCat("sector ",
                            haven::v1::Sector_Name(grantee.sector()));
}

std::string PurposesText(const Consent& c) {
  std::vector<std::string> names;
  for (int p : c.purposes()) {
    names.push_back(
        haven::v1::Purpose_Name(static_cast<haven::v1::Purpose>(p)));
  }
  return absl::StrJoin(names, ",");
}

// The audit entry of a change to `c` (its new version).
haven::v1::AuditEntry ConsentEntry(haven::v1::EntryKind kind, const Consent& c,
                                   absl::string_view reason,
                                   absl::string_view detail) {
  haven::v1::AuditEntry entry;
  entry.set_kind(kind);
  entry.add_consent_ids(c.consent_id());
  entry.set_consent_version(c.version());
  for (int cat : c.categories()) {
    entry.add_asked(static_cast<haven::v1::Category>(cat));
  }
  if (!c.purposes().empty()) {
    entry.set_purpose(static_cast<haven::v1::Purpose>(c.purposes(0)));
  }
  entry.set_justification(std::string(reason));
  entry.set_detail(std::string(detail));
  return entry;
}

// What an amendment changed, in words, for its entry.
std::string Changes(const Consent& before, const Consent& after) {
  std::vector<std::string> changed;
  if (before.grantee().SerializeAsString() !=
      after.grantee().SerializeAsString()) {
    changed.push_back("grantee");
  }
  if (std::set<int>(before.purposes().begin(), before.purposes().end()) !=
      std::set<int>(after.purposes().begin(), after.purposes().end())) {
    changed.push_back("purposes");
  }
  if (std::set<int>(before.categories().begin(), before.categories().end()) !=
      std::set<int>(after.categories().begin(), after.categories().end())) {
    changed.push_back("categories");
  }
  if (before.valid().from_unix() != after.valid().from_unix() ||
      before.valid().until_unix() != after.valid().until_unix()) {
    changed.push_back("validity");
  }
  if (before.data_life_seconds() != after.data_life_seconds()) {
    changed.push_back("data life");
  }
  if (before.use_limit().max_uses() != after.use_limit().max_uses() ||
      before.use_limit().period_seconds() !=
          after.use_limit().period_seconds()) {
    changed.push_back("use limit");
  }
  if (before.evidence_sha256() != after.evidence_sha256()) {
    changed.push_back("evidence");
  }
  return changed.empty() ? "nothing" : absl::StrJoin(changed, ", ");
}

std::string TermsText(const Consent& c) {
  return absl::StrCat(
      "grantee ", GranteeText(c.grantee()), "; purposes ", PurposesText(c),
      "; valid until ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                       absl::FromUnixSeconds(c.valid().until_unix()),
                       absl::UTCTimeZone()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsentRegistry>> ConsentRegistry::Create(
    Options options) {
  if (options.storage == nullptr || options.audit == nullptr ||
      options.sealer == nullptr || options.clock == nullptr ||
      options.signer == nullptr) {
    return absl::InvalidArgumentError(
        "consent registry needs a storage, an audit recorder, a sealer, a "
        "clock and a signer");
  }
  std::unique_ptr<ConsentRegistry> registry(
      new ConsentRegistry(std::move(options)));
  HAVEN_RETURN_IF_ERROR(registry->Load());
  return registry;
}

std::string ConsentRegistry::SealAt(absl::string_view key,
                                    absl::string_view plain) const {
  return options_.sealer->Seal(absl::StrCat("consent/", key), plain);
}

absl::Status ConsentRegistry::Load() {
  absl::MutexLock lock(&mu_);
  absl::Status bad;
  auto open = [&](absl::string_view key, absl::string_view value,
                  absl::string_view what) -> std::optional<std::string> {
    absl::StatusOr<std::string> plain =
        options_.sealer->Open(absl::StrCat("consent/", key), value, what);
    if (!plain.ok()) {
      if (bad.ok()) bad = plain.status();
      return std::nullopt;
    }
    return *std::move(plain);
  };
  HAVEN_RETURN_IF_ERROR(options_.storage->Scan(
      Family::kConsent, kConsentPrefix,
      [&](absl::string_view key, absl::string_view value) {
        mu_.AssertHeld();  // Scan calls back on this thread, under Load's lock.
        std::optional<std::string> plain = open(key, value, "a stored consent");
        Consent c;
        if (plain.has_value() && !c.ParseFromString(*plain)) {
          bad = absl::DataLossError("a stored consent is malformed");
        }
        if (!plain.has_value() || !bad.ok()) return false;
        Entry& entry = consents_[c.consent_id()];
        if (entry.history.empty()) {
          subject_consents_[c.subject_id()].push_back(c.consent_id());
        }
        if (key != VersionKey(c.consent_id(), c.version()) ||
            c.version() != entry.history.size() + 1) {
          bad = absl::DataLossError(
              "a stored consent version is out of place or missing");
          return false;
        }
        entry.history.push_back(std::move(c));
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(bad);
  HAVEN_RETURN_IF_ERROR(options_.storage->Scan(
      Family::kConsent, kUsePrefix,
      [&](absl::string_view key, absl::string_view value) {
        mu_.AssertHeld();
        std::optional<std::string> plain =
            open(key, value, "a stored consent use count");
        if (!plain.has_value()) return false;
        auto it = consents_.find(key.substr(sizeof(kUsePrefix) - 1));
        UseState u;
        if (it == consents_.end() ||
            !DecodeUse(*plain, u.total, u.last_unix, u.window)) {
          bad = absl::DataLossError("a stored consent use count is malformed");
          return false;
        }
        it->second.use = u;
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(bad);
  HAVEN_RETURN_IF_ERROR(options_.storage->Scan(
      Family::kConsent, kRefusalPrefix,
      [&](absl::string_view key, absl::string_view value) {
        mu_.AssertHeld();
        std::optional<std::string> plain = open(key, value, "a stored refusal");
        Refusal r;
        if (plain.has_value() &&
            (!r.ParseFromString(*plain) || key != RefusalKey(r.refusal_id()))) {
          bad = absl::DataLossError("a stored refusal is malformed");
        }
        if (!plain.has_value() || !bad.ok()) return false;
        subject_refusals_[r.subject_id()].push_back(r.refusal_id());
        refusals_[r.refusal_id()] = std::move(r);
        return true;
      }));
  HAVEN_RETURN_IF_ERROR(bad);
  std::set<std::string> subjects;
  for (const auto& [subject, ids] : subject_consents_) subjects.insert(subject);
  for (const auto& [subject, ids] : subject_refusals_) subjects.insert(subject);
  for (const std::string& s : subjects) Publish(s, /*terms_changed=*/true);
  return absl::OkStatus();
}

void ConsentRegistry::Publish(const std::string& subject_id,
                              bool terms_changed) {
  auto compiled = std::make_shared<policy::CompiledConsents>();
  auto previous = snapshots_.find(subject_id);
  compiled->generation = (terms_changed || previous == snapshots_.end())
                             ? next_generation_++
                             : previous->second->generation;
  if (auto it = subject_refusals_.find(subject_id);
      it != subject_refusals_.end()) {
    for (const std::string& id : it->second) {
      const Refusal& r = refusals_.at(id);
      if (!r.active()) continue;
      if (r.agency_id().empty()) {
        if (!compiled->refused) compiled->refusal_id = r.refusal_id();
        compiled->refused = true;
      } else if (!compiled->Refuses(r.agency_id())) {
        compiled->refused_agencies.push_back(r.agency_id());
      }
    }
  }
  bool live = false;
  if (auto it = subject_consents_.find(subject_id);
      it != subject_consents_.end()) {
    for (const std::string& id : it->second) {
      const Entry& entry = consents_.at(id);
      const haven::v1::ConsentStatus status = entry.history.back().status();
      live |= status == haven::v1::ACTIVE || status == haven::v1::PAUSED;
      compiled->consents.push_back(policy::ConsentView::FromProto(
          entry.history.back(), entry.use.window));
    }
  }
  if (live) {
    live_subjects_.insert(subject_id);
  } else {
    live_subjects_.erase(subject_id);
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

absl::Status ConsentRegistry::ValidateTerms(const Consent& c,
                                            bool is_new) const {
  if (!IsNodeId(c.subject_id())) {
    return absl::InvalidArgumentError(
        "consent: subject_id must be a subject id (32 lower-case hex "
        "characters)");
  }
  if (c.grantee().has_agency_id()) {
    if (!IsAgencyId(c.grantee().agency_id())) {
      return absl::InvalidArgumentError(
          "consent: grantee.agency_id must be an agency id ([a-z0-9-], 1 to "
          "63 characters)");
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
  HAVEN_RETURN_IF_ERROR(CheckKnownValues(c.purposes(), kMaxConsentPurposes,
                                         haven::v1::Purpose_IsValid,
                                         "purposes"));
  HAVEN_RETURN_IF_ERROR(CheckKnownValues(c.categories(), kMaxConsentCategories,
                                         haven::v1::Category_IsValid,
                                         "categories"));
  if (c.valid().until_unix() <= c.valid().from_unix()) {
    return absl::InvalidArgumentError(
        "consent: valid.until_unix is required and must be after "
        "valid.from_unix");
  }
  if (c.valid().until_unix() <= options_.clock->NowUnix()) {
    return absl::InvalidArgumentError(
        "consent: valid.until_unix has already passed");
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
  if (options_.check_grantee) {
    HAVEN_RETURN_IF_ERROR(options_.check_grantee(c.grantee()));
  }
  if (is_new && options_.check_subject) {
    HAVEN_RETURN_IF_ERROR(options_.check_subject(c.subject_id()));
  }
  return absl::OkStatus();
}

ConsentChange ConsentRegistry::MakeChange(ConsentChange::Kind kind,
                                          const std::string& subject_id,
                                          const Consent* pending,
                                          const Refusal* pending_refusal,
                                          absl::string_view actor) const {
  ConsentChange change;
  change.kind = kind;
  change.subject_id = subject_id;
  change.actor = std::string(actor);
  if (pending != nullptr) change.consent = *pending;
  absl::MutexLock lock(&mu_);
  bool pending_listed = false;
  if (auto it = subject_consents_.find(subject_id);
      it != subject_consents_.end()) {
    for (const std::string& id : it->second) {
      if (pending != nullptr && id == pending->consent_id()) {
        change.subject_consents.push_back(*pending);
        pending_listed = true;
      } else {
        change.subject_consents.push_back(consents_.at(id).history.back());
      }
    }
  }
  if (pending != nullptr && !pending_listed) {
    change.subject_consents.push_back(*pending);
  }
  auto count = [&change](const Refusal& r) {
    if (!r.active()) return;
    if (r.agency_id().empty()) {
      change.refused = true;
    } else {
      change.refused_agencies.push_back(r.agency_id());
    }
  };
  if (auto it = subject_refusals_.find(subject_id);
      it != subject_refusals_.end()) {
    for (const std::string& id : it->second) {
      count((pending_refusal != nullptr && pending_refusal->refusal_id() == id)
                ? *pending_refusal
                : refusals_.at(id));
    }
  }
  if (pending_refusal != nullptr) {
    change.refusal = *pending_refusal;
    if (!refusals_.contains(pending_refusal->refusal_id())) {
      count(*pending_refusal);
    }
  }
  return change;
}

absl::Status ConsentRegistry::Commit(audit::Action action,
                                     absl::FunctionRef<void()> apply) {
  absl::Notification committed;
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    apply();
    options_.audit->CommitAsync(std::move(action),
                                [&](const absl::StatusOr<uint64_t>& index) {
                                  result = index.status();
                                  committed.Notify();
                                });
  }
  committed.WaitForNotification();
  if (result.ok() && options_.observer != nullptr) {
    options_.observer->AfterCommit();
  }
  return result;
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::CommitVersion(
    Consent next, haven::v1::EntryKind kind, ConsentChange::Kind change,
    absl::string_view reason, absl::string_view detail) {
  next.set_recorded_unix(options_.clock->NowUnix());
  // New terms may run to a new end.
  expiry_swept_.erase(next.consent_id());
  next.set_use_count(0);
  next.set_last_used_unix(0);
  const std::string key = VersionKey(next.consent_id(), next.version());
  audit::Action action;
  action.entries.push_back(
      options_.audit->Stamped(ConsentEntry(kind, next, reason, detail),
                              next.recorded_by(), next.subject_id()));
  action.state.Put(Family::kConsent, key,
                   SealAt(key, next.SerializeAsString()));
  if (options_.observer != nullptr) {
    HAVEN_RETURN_IF_ERROR(options_.observer->OnConsentChange(
        MakeChange(change, next.subject_id(), &next, nullptr,
                   next.recorded_by()),
        &action));
  }
  HAVEN_RETURN_IF_ERROR(Commit(std::move(action), [&] {
    mu_.AssertHeld();
    Entry& entry = consents_[next.consent_id()];
    if (entry.history.empty()) {
      subject_consents_[next.subject_id()].push_back(next.consent_id());
    }
    entry.history.push_back(next);
    Publish(next.subject_id(), /*terms_changed=*/true);
  }));
  return SignReceipt(next, *options_.signer, options_.issuer);
}

absl::StatusOr<int> ConsentRegistry::SweepExpired() {
  if (options_.observer == nullptr) return 0;
  absl::MutexLock write(&write_mu_);
  const int64_t now = options_.clock->NowUnix();
  std::vector<Consent> due;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [id, entry] : consents_) {
      const Consent& c = entry.history.back();
      if ((c.status() == haven::v1::ACTIVE ||
           c.status() == haven::v1::PAUSED) &&
          c.valid().until_unix() <= now && !expiry_swept_.contains(id)) {
        due.push_back(c);
      }
    }
  }
  int changed = 0;
  for (const Consent& c : due) {
    ConsentChange change =
        MakeChange(ConsentChange::Kind::kExpired, c.subject_id(), nullptr,
                   nullptr, "havend");
    change.consent = c;
    audit::Action action;
    HAVEN_RETURN_IF_ERROR(options_.observer->OnConsentChange(change, &action));
    if (!action.entries.empty()) {
      HAVEN_RETURN_IF_ERROR(Commit(std::move(action), [] {}));
      ++changed;
    }
    expiry_swept_.insert(c.consent_id());
  }
  return changed;
}

absl::StatusOr<int> ConsentRegistry::ReconcileMembers(
    std::vector<std::string> agencies) {
  if (options_.observer == nullptr || agencies.empty()) return 0;
  if (agencies.size() > limits::kMaxManifestMembers) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", limits::kMaxManifestMembers,
                     " agencies can be reconciled at once"));
  }
  int changed = 0;
  std::string after;  // the last subject of the previous page
  bool first = true;
  while (true) {
    std::vector<std::string> page;
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it =
          first ? live_subjects_.begin() : live_subjects_.upper_bound(after);
      for (; it != live_subjects_.end() && page.size() < kReconcilePage; ++it) {
        page.push_back(*it);
      }
    }
    if (page.empty()) break;
    first = false;
    after = page.back();
    for (const std::string& subject : page) {
      absl::MutexLock write(&write_mu_);
      ConsentChange change = MakeChange(ConsentChange::Kind::kMembershipChanged,
                                        subject, nullptr, nullptr, "havend");
      change.agencies = agencies;
      audit::Action action;
      HAVEN_RETURN_IF_ERROR(
          options_.observer->OnConsentChange(change, &action));
      if (!action.entries.empty()) {
        HAVEN_RETURN_IF_ERROR(Commit(std::move(action), [] {}));
        ++changed;
      }
    }
    if (page.size() < kReconcilePage) break;
  }
  return changed;
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Record(
    const Consent& terms, absl::string_view actor) {
  HAVEN_RETURN_IF_ERROR(ValidateTerms(terms, /*is_new=*/true));
  Consent c = terms;
  c.set_consent_id(crypto::RandomHexId(16));
  c.set_version(1);
  c.set_status(haven::v1::ACTIVE);
  c.set_status_reason("");
  c.set_recorded_by(std::string(actor));
  absl::MutexLock write(&write_mu_);
  const std::string detail = TermsText(c);
  return CommitVersion(std::move(c), haven::v1::CONSENT_RECORDED,
                       ConsentChange::Kind::kRecorded, "", detail);
}

absl::StatusOr<Consent> ConsentRegistry::Current(
    absl::string_view consent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = consents_.find(consent_id);
  if (it == consents_.end()) {
    return absl::NotFoundError("no consent with that id");
  }
  return it->second.history.back();
}

ConsentRegistry::StatusCounts ConsentRegistry::CountByStatus() const {
  StatusCounts counts;
  const int64_t now = options_.clock->NowUnix();
  absl::MutexLock lock(&mu_);
  for (const auto& [id, entry] : consents_) {
    if (entry.history.empty()) continue;
    const Consent& current = entry.history.back();
    switch (current.status()) {
      case haven::v1::ACTIVE:
        ++(now >= current.valid().until_unix() ? counts.expired
                                               : counts.active);
        break;
      case haven::v1::PAUSED:
        ++counts.paused;
        break;
      case haven::v1::REVOKED:
        ++counts.revoked;
        break;
      case haven::v1::EXPIRED:
        ++counts.expired;
        break;
      default:
        break;
    }
  }
  for (const auto& [id, refusal] : refusals_) {
    ++(refusal.active() ? counts.refusals_active : counts.refusals_lifted);
  }
  return counts;
}

bool ConsentRegistry::HasVersion(absl::string_view consent_id,
                                 uint32_t version) const {
  absl::MutexLock lock(&mu_);
  auto it = consents_.find(consent_id);
  return it != consents_.end() && version >= 1 &&
         version <= it->second.history.size();
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
  HAVEN_RETURN_IF_ERROR(ValidateTerms(next, /*is_new=*/false));
  next.set_consent_id(current.consent_id());
  next.set_version(current.version() + 1);
  next.set_status(current.status());
  next.set_status_reason(current.status_reason());
  next.set_recorded_by(std::string(actor));
  const std::string detail = absl::StrCat("changed: ", Changes(current, next),
                                          "; now ", TermsText(next));
  return CommitVersion(std::move(next), haven::v1::CONSENT_AMENDED,
                       ConsentChange::Kind::kAmended, "", detail);
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::ChangeStatus(
    absl::string_view consent_id, const StatusChange& change,
    absl::string_view reason, absl::string_view actor) {
  absl::MutexLock write(&write_mu_);
  HAVEN_ASSIGN_OR_RETURN(Consent next, Current(consent_id));
  if (!change.allowed(next.status())) {
    return absl::FailedPreconditionError(change.refused);
  }
  next.set_version(next.version() + 1);
  next.set_status(change.to);
  next.set_status_reason(std::string(reason));
  next.set_recorded_by(std::string(actor));
  return CommitVersion(std::move(next), change.entry, change.kind, reason, "");
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Pause(
    absl::string_view consent_id, absl::string_view reason,
    absl::string_view actor) {
  HAVEN_RETURN_IF_ERROR(
      CheckPlainText(reason, "reason", kMaxReasonBytes, /*required=*/true));
  static constexpr StatusChange kPause{
      [](haven::v1::ConsentStatus s) { return s == haven::v1::ACTIVE; },
      "only an active consent can be paused", haven::v1::PAUSED,
      haven::v1::CONSENT_PAUSED, ConsentChange::Kind::kPaused};
  return ChangeStatus(consent_id, kPause, reason, actor);
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Resume(
    absl::string_view consent_id, absl::string_view actor) {
  static constexpr StatusChange kResume{
      [](haven::v1::ConsentStatus s) { return s == haven::v1::PAUSED; },
      "only a paused consent can be resumed", haven::v1::ACTIVE,
      haven::v1::CONSENT_RESUMED, ConsentChange::Kind::kResumed};
  return ChangeStatus(consent_id, kResume, "", actor);
}

absl::StatusOr<ConsentReceipt> ConsentRegistry::Revoke(
    absl::string_view consent_id, absl::string_view reason,
    absl::string_view actor) {
  HAVEN_RETURN_IF_ERROR(
      CheckPlainText(reason, "reason", kMaxReasonBytes, /*required=*/true));
  static constexpr StatusChange kRevoke{
      [](haven::v1::ConsentStatus s) { return s != haven::v1::REVOKED; },
      "the consent is already revoked", haven::v1::REVOKED,
      haven::v1::CONSENT_REVOKED, ConsentChange::Kind::kRevoked};
  return ChangeStatus(consent_id, kRevoke, reason, actor);
}

absl::StatusOr<Refusal> ConsentRegistry::CommitRefusal(
    Refusal refusal, haven::v1::EntryKind kind, ConsentChange::Kind change,
    absl::string_view actor) {
  const std::string key = RefusalKey(refusal.refusal_id());
  haven::v1::AuditEntry entry;
  entry.set_kind(kind);
  entry.set_detail(absl::StrCat(
      "refusal ", refusal.refusal_id(),
      refusal.agency_id().empty() ? "" : " of agency ", refusal.agency_id()));
  audit::Action action;
  action.entries.push_back(
      options_.audit->Stamped(std::move(entry), actor, refusal.subject_id()));
  action.state.Put(Family::kConsent, key,
                   SealAt(key, refusal.SerializeAsString()));
  if (options_.observer != nullptr) {
    HAVEN_RETURN_IF_ERROR(options_.observer->OnConsentChange(
        MakeChange(change, refusal.subject_id(), nullptr, &refusal, actor),
        &action));
  }
  HAVEN_RETURN_IF_ERROR(Commit(std::move(action), [&] {
    mu_.AssertHeld();
    if (!refusals_.contains(refusal.refusal_id())) {
      subject_refusals_[refusal.subject_id()].push_back(refusal.refusal_id());
    }
    refusals_[refusal.refusal_id()] = refusal;
    Publish(refusal.subject_id(), /*terms_changed=*/true);
  }));
  return refusal;
}

absl::StatusOr<Refusal> ConsentRegistry::RecordRefusal(
    absl::string_view subject_id, absl::string_view evidence_sha256,
    absl::string_view actor, absl::string_view agency_id) {
  if (!IsNodeId(subject_id)) {
    return absl::InvalidArgumentError(
        "refusal: subject_id must be a subject id (32 lower-case hex "
        "characters)");
  }
  if (!evidence_sha256.empty() && evidence_sha256.size() != 32) {
    return absl::InvalidArgumentError(
        "refusal: evidence_sha256 must be 32 bytes when set");
  }
  if (!agency_id.empty()) {
    if (agency_id.size() > limits::kMaxAgencyIdBytes ||
        !IsAgencyId(agency_id)) {
      return absl::InvalidArgumentError(
          "refusal: agency_id must be an agency id ([a-z0-9-], 1 to 63 "
          "characters) or empty for every agency");
    }
    if (options_.check_refused_agency) {
      HAVEN_RETURN_IF_ERROR(options_.check_refused_agency(agency_id));
    }
  }
  if (options_.check_subject) {
    HAVEN_RETURN_IF_ERROR(options_.check_subject(subject_id));
  }
  Refusal r;
  r.set_refusal_id(crypto::RandomHexId(16));
  r.set_subject_id(std::string(subject_id));
  r.set_active(true);
  r.set_recorded_by(std::string(actor));
  r.set_recorded_unix(options_.clock->NowUnix());
  r.set_evidence_sha256(std::string(evidence_sha256));
  r.set_agency_id(std::string(agency_id));
  absl::MutexLock write(&write_mu_);
  return CommitRefusal(std::move(r), haven::v1::REFUSAL_RECORDED,
                       ConsentChange::Kind::kRefusalRecorded, actor);
}

absl::StatusOr<Refusal> ConsentRegistry::LiftRefusal(
    absl::string_view refusal_id, absl::string_view actor) {
  absl::MutexLock write(&write_mu_);
  Refusal r;
  {
    absl::MutexLock lock(&mu_);
    auto it = refusals_.find(refusal_id);
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
  return CommitRefusal(std::move(r), haven::v1::REFUSAL_LIFTED,
                       ConsentChange::Kind::kRefusalLifted, actor);
}

absl::StatusOr<std::vector<Consent>> ConsentRegistry::Get(
    absl::string_view consent_id) const {
  absl::MutexLock lock(&mu_);
  auto it = consents_.find(consent_id);
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
  if (auto it = subject_consents_.find(subject_id);
      it != subject_consents_.end()) {
    for (const std::string& id : it->second) {
      *response.add_consents() = WithUse(consents_.at(id));
    }
  }
  if (auto it = subject_refusals_.find(subject_id);
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
  auto it = snapshots_.find(subject_id);
  if (it == snapshots_.end()) return policy::EmptyConsents();
  return it->second;
}

void ConsentRegistry::ClaimUses(const std::vector<UseClaim>& claims,
                                int64_t now_unix, ClaimedFn then) {
  std::vector<absl::Status> results;
  results.reserve(claims.size());
  storage::WriteBatch uses;
  absl::MutexLock lock(&mu_);
  for (const UseClaim& claim : claims) {
    auto snapshot = snapshots_.find(claim.subject_id);
    const uint64_t generation = snapshot == snapshots_.end()
                                    ? policy::EmptyConsents()->generation
                                    : snapshot->second->generation;
    if (generation != claim.generation) {
      results.push_back(absl::FailedPreconditionError(
          "the survivor's consent or refusal changed while the request was "
          "decided; ask again"));
      continue;
    }
    absl::Status usable;
    for (const std::string& id : claim.consent_ids) {
      auto it = consents_.find(id);
      if (it == consents_.end()) {
        usable = absl::FailedPreconditionError("the consent no longer exists");
        break;
      }
      const policy::ConsentView view = policy::ConsentView::FromProto(
          it->second.history.back(), it->second.use.window);
      if (haven::v1::DecisionReason reason = view.UnusableReason(now_unix);
          reason != haven::v1::DECISION_REASON_UNSPECIFIED) {
        usable = absl::FailedPreconditionError(
            absl::StrCat("consent can no longer be used: ",
                         haven::v1::DecisionReason_Name(reason)));
        break;
      }
    }
    if (!usable.ok()) {
      results.push_back(std::move(usable));
      continue;
    }
    for (const std::string& id : claim.consent_ids) {
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
      const std::string key = UseKey(id);
      uses.Put(Family::kConsent, key,
               SealAt(key, EncodeUse(use.total, use.last_unix, use.window)));
    }
    if (!claim.consent_ids.empty()) {
      Publish(claim.subject_id, /*terms_changed=*/false);
    }
    results.push_back(absl::OkStatus());
  }
  then(std::move(results), std::move(uses));
}

haven::v1::ConsentReceipt ConsentRegistry::Receipt(
    const haven::v1::Consent& version) const {
  return SignReceipt(version, *options_.signer, options_.issuer);
}

}  // namespace haven::server::consent
