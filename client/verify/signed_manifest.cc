#include "client/verify/signed_manifest.h"

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "client/verify/crypto.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "haven/base/hex.h"
#include "haven/base/limits.h"

namespace haven::client {
namespace {

class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstError(absl::string_view file) : file_(file) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ =
          absl::StrCat(file_, ":", line + 1, ":", column + 1, ": ", message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string file_;
  std::string first_;
};

absl::Status CheckMembers(const haven::v1::FederationManifest& proto,
                          absl::string_view source_name) {
  if (static_cast<size_t>(proto.members_size()) > limits::kMaxManifestMembers) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid manifest ", source_name, ": more than ",
                     limits::kMaxManifestMembers, " members"));
  }
  std::set<std::string> ids;
  std::set<std::string> fingerprints;
  for (int i = 0; i < proto.members_size(); ++i) {
    const haven::v1::Member& m = proto.members(i);
    auto bad = [&](absl::string_view field, absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid manifest ", source_name, ": members[", i, "] (",
                       m.agency_id().empty() ? "no id" : m.agency_id(), ") ",
                       field, ": ", why));
    };
    if (m.agency_id().empty()) return bad("agency_id", "required");
    if (!ids.insert(m.agency_id()).second) return bad("agency_id", "duplicate");
    if (m.sector() == haven::v1::SECTOR_UNSPECIFIED) {
      return bad("sector", "required");
    }
    if (m.status() == haven::v1::MEMBER_STATUS_UNSPECIFIED) {
      return bad("status", "required (MEMBER_ACTIVE or MEMBER_SUSPENDED)");
    }
    size_t colon = m.endpoint().rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(m.endpoint().substr(colon + 1), &port) || port <= 0 ||
        port > 65535) {
      return bad("endpoint", "expected host:port");
    }
    if (!IsLowerHex(m.cert_sha256(), 64)) {
      return bad("cert_sha256",
                 "expected the certificate's SHA-256 as 64 lower-case hex "
                 "characters");
    }
    if (!fingerprints.insert(m.cert_sha256()).second) {
      return bad("cert_sha256", "same certificate as another member");
    }
    // A rotation window's next certificate is checked like the current
    // one: peers accept either as this member, so no other member may hold
    // it.
    if (!m.next_cert_sha256().empty()) {
      if (!IsLowerHex(m.next_cert_sha256(), 64)) {
        return bad("next_cert_sha256",
                   "expected the next certificate's SHA-256 as 64 lower-case "
                   "hex characters");
      }
      if (m.next_cert_sha256() == m.cert_sha256()) {
        return bad("next_cert_sha256", "same as this member's cert_sha256");
      }
      if (!fingerprints.insert(m.next_cert_sha256()).second) {
        return bad("next_cert_sha256", "same certificate as another member");
      }
    }
    // During a signing-key rotation peers accept this key too: it must be a
    // key of this member's log, not one that could pass for another's.
    if (!m.next_verifier_key().empty()) {
      auto next = ParseVerifierKey(m.next_verifier_key());
      if (!next.ok()) return bad("next_verifier_key", next.status().ToString());
      if (next->name != LogOrigin(m.agency_id())) {
        return bad("next_verifier_key",
                   absl::StrCat("must be named ", LogOrigin(m.agency_id())));
      }
      if (m.next_verifier_key() == m.verifier_key()) {
        return bad("next_verifier_key", "same as verifier_key");
      }
    }
  }
  return absl::OkStatus();
}

// The fields of a member other than its status that differ, by name.
std::vector<std::string> ChangedFields(const haven::v1::Member& before,
                                       const haven::v1::Member& after) {
  std::vector<std::string> changed;
  const google::protobuf::Descriptor* descriptor =
      haven::v1::Member::descriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (field->number() == haven::v1::Member::kStatusFieldNumber) continue;
    std::string a;
    std::string b;
    google::protobuf::TextFormat::PrintFieldValueToString(before, field, -1,
                                                          &a);
    google::protobuf::TextFormat::PrintFieldValueToString(after, field, -1, &b);
    if (a != b) changed.push_back(field->name());
  }
  return changed;
}

}  // namespace

absl::string_view MemberChangeName(MemberChange::Kind kind) {
  switch (kind) {
    case MemberChange::Kind::kJoined:
      return "joined";
    case MemberChange::Kind::kSuspended:
      return "suspended";
    case MemberChange::Kind::kReinstated:
      return "reinstated";
    case MemberChange::Kind::kRemoved:
      return "removed";
    case MemberChange::Kind::kChanged:
      return "changed";
  }
  return "changed";
}

std::vector<MemberChange> DiffManifests(
    const haven::v1::FederationManifest* before,
    const haven::v1::FederationManifest& after) {
  using Kind = MemberChange::Kind;
  std::map<std::string, const haven::v1::Member*> old_by_id;
  if (before != nullptr) {
    for (const haven::v1::Member& m : before->members()) {
      old_by_id[m.agency_id()] = &m;
    }
  }
  std::vector<MemberChange> changes;
  std::set<std::string> in_after;
  for (const haven::v1::Member& now : after.members()) {
    in_after.insert(now.agency_id());
    auto old = old_by_id.find(now.agency_id());
    if (old == old_by_id.end()) {
      MemberChange joined{Kind::kJoined, now.agency_id(), {}};
      if (now.status() != haven::v1::MEMBER_ACTIVE) {
        joined.fields.push_back("status");
      }
      changes.push_back(std::move(joined));
      continue;
    }
    if (old->second->status() != now.status()) {
      changes.push_back({now.status() == haven::v1::MEMBER_ACTIVE
                             ? Kind::kReinstated
                             : Kind::kSuspended,
                         now.agency_id(),
                         {}});
    }
    if (std::vector<std::string> fields = ChangedFields(*old->second, now);
        !fields.empty()) {
      changes.push_back({Kind::kChanged, now.agency_id(), std::move(fields)});
    }
  }
  if (before != nullptr) {
    for (const haven::v1::Member& old : before->members()) {
      if (!in_after.contains(old.agency_id())) {
        changes.push_back({Kind::kRemoved, old.agency_id(), {}});
      }
    }
  }
  return changes;
}

absl::StatusOr<ManifestTrust> ParseManifestTrust(
    const std::vector<std::string>& verifier_keys, uint32_t required) {
  if (verifier_keys.empty()) {
    return absl::InvalidArgumentError(
        "no federation verifier key: a manifest could not be checked");
  }
  if (verifier_keys.size() > limits::kMaxFederationVerifierKeys) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", limits::kMaxFederationVerifierKeys,
                     " federation verifier keys"));
  }
  ManifestTrust trust;
  std::set<std::string> names;
  for (const std::string& text : verifier_keys) {
    absl::StatusOr<NoteVerifierKey> key = ParseVerifierKey(text);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("federation verifier key: ", key.status().message()));
    }
    if (!names.insert(key->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two federation verifier keys are named '", key->name,
                       "': each operator's key needs its own name"));
    }
    trust.keys.push_back(*std::move(key));
  }
  trust.required = required == 0 ? 1 : static_cast<int>(required);
  if (static_cast<size_t>(trust.required) > trust.keys.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(trust.required, " manifest signatures required but only ",
                     trust.keys.size(), " federation verifier keys given"));
  }
  return trust;
}

absl::StatusOr<haven::v1::FederationManifest> ParseManifestText(
    absl::string_view text, absl::string_view source_name) {
  haven::v1::FederationManifest proto;
  google::protobuf::TextFormat::Parser parser;
  FirstError errors(source_name);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed manifest: ", errors.first()));
  }
  if (absl::Status members = CheckMembers(proto, source_name); !members.ok()) {
    return members;
  }
  return proto;
}

std::string ManifestNoteText(const haven::v1::FederationManifest& manifest) {
  std::string body;
  google::protobuf::TextFormat::Printer printer;
  printer.PrintToString(manifest, &body);
  return absl::StrCat(kManifestNoteHeader, "\n", body);
}

absl::StatusOr<haven::v1::FederationManifest> ReadManifestNote(
    absl::string_view note, absl::string_view source_name) {
  absl::StatusOr<ParsedNote> parsed = ReadManifestSignatures(note, source_name);
  if (!parsed.ok()) return parsed.status();
  return ParseManifestNoteText(parsed->text, source_name);
}

absl::StatusOr<ParsedNote> ReadManifestSignatures(
    absl::string_view note, absl::string_view source_name) {
  if (note.size() > limits::kMaxManifestNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest ", source_name, " is larger than ",
                     limits::kMaxManifestNoteBytes, " bytes"));
  }
  absl::StatusOr<ParsedNote> parsed = ParseNote(note);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest ", source_name,
        " is not a signed manifest (havenctl federation sign makes one): ",
        parsed.status().message()));
  }
  return parsed;
}

absl::StatusOr<haven::v1::FederationManifest> ParseManifestNoteText(
    absl::string_view text, absl::string_view source_name) {
  if (!absl::ConsumePrefix(&text, kManifestNoteHeader) ||
      !absl::ConsumePrefix(&text, "\n")) {
    return absl::InvalidArgumentError(absl::StrCat("manifest ", source_name,
                                                   " does not start with \"",
                                                   kManifestNoteHeader, "\""));
  }
  return ParseManifestText(text, source_name);
}

absl::StatusOr<VerifiedManifest> VerifyManifestNote(
    absl::string_view note, const ManifestTrust& trust,
    absl::string_view source_name) {
  absl::StatusOr<ParsedNote> parsed = ReadManifestSignatures(note, source_name);
  if (!parsed.ok()) return parsed.status();
  // Signatures first: nothing an unsigned text says is parsed further than
  // the note's own framing.
  VerifiedManifest verified;
  for (const NoteVerifierKey& key : trust.keys) {
    for (const NoteSignature& sig : parsed->signatures) {
      if (sig.name != key.name || sig.key_id != key.key_id) continue;
      if (!VerifyEd25519(key.public_key, parsed->text, sig.signature)) {
        return absl::DataLossError(
            absl::StrCat("manifest ", source_name,
                         ": invalid signature by federation key ", key.name));
      }
      verified.signers.push_back(key.name);
      break;
    }
  }
  if (verified.signers.size() < static_cast<size_t>(trust.required)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "manifest ", source_name, " is signed by ", verified.signers.size(),
        " of the ", trust.required, " federation keys required",
        verified.signers.empty()
            ? std::string()
            : absl::StrCat(" (", absl::StrJoin(verified.signers, ", "), ")")));
  }
  absl::StatusOr<haven::v1::FederationManifest> manifest =
      ParseManifestNoteText(parsed->text, source_name);
  if (!manifest.ok()) return manifest.status();
  verified.manifest = *std::move(manifest);
  verified.note_sha256 = LowerHex(Sha256(note));
  return verified;
}

}  // namespace haven::client
