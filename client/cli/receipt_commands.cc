// havenctl consent receipt and verify-receipt: the survivor's signed copy
// of her consent, in words she can read, and its check with no node (only
// the agency's published key), so she or her lawyer can show what she
// agreed to and that the agency signed it.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/decision_output.h"
#include "client/cli/json.h"
#include "client/cli/node_call.h"
#include "client/cli/plain_words.h"
#include "client/verify/consent_receipt.h"
#include "client/verify/signed_note.h"
#include "google/protobuf/util/json_util.h"

namespace haven::client::cli {
namespace {

// A receipt file is one small JSON document; anything larger is not one.
constexpr std::uintmax_t kMaxReceiptFileBytes = 64 * 1024;

template <typename Repeated, typename NameFn>
std::string List(const Repeated& values, NameFn name) {
  std::vector<std::string> words;
  for (int v : values) words.push_back(Words(name(v)));
  return JoinAsSentence(std::move(words));
}

// The receipt in plain words, then what makes it checkable.
void PrintPlainReceipt(const haven::v1::ConsentReceipt& receipt) {
  const haven::v1::Consent& c = receipt.consent();
  const std::string who =
      c.grantee().has_agency_id()
          ? absl::StrCat("the agency ", c.grantee().agency_id())
          : absl::StrCat("every ",
                         Words(haven::v1::Sector_Name(c.grantee().sector())),
                         " agency of the task force");
  std::printf(
      "You agreed that %s may receive your %s information from %s, for %s "
      "only.\n",
      who.c_str(),
      List(c.categories(),
           [](int v) {
             return haven::v1::Category_Name(
                 static_cast<haven::v1::Category>(v));
           })
          .c_str(),
      receipt.issuer().c_str(),
      List(c.purposes(), [](int v) {
        return haven::v1::Purpose_Name(static_cast<haven::v1::Purpose>(v));
      }).c_str());
  std::printf("It is valid from %s until %s.\n",
              FormatUnix(c.valid().from_unix()).c_str(),
              FormatUnix(c.valid().until_unix()).c_str());
  std::printf("Its status now: %s (version %u).\n",
              Words(haven::v1::ConsentStatus_Name(c.status())).c_str(),
              c.version());
  std::printf(
      "You can withdraw it at any time; nothing more is shared from the "
      "moment you do.\n\n");
  std::printf("consent %s, signed by %s (key id %s)\n", c.consent_id().c_str(),
              receipt.issuer().c_str(), receipt.key_id().c_str());
}

int Receipt(const Invocation& in) {
  if (int rc = RequireFlags(in.args, {"id"})) return rc;
  haven::v1::GetConsentRequest request;
  request.set_consent_id(in.args.GetOr("id", ""));
  return PrintResponse(in,
                       PartOf(CallNode(in, &NodeClient::GetConsent, request),
                              [](const haven::v1::GetConsentResponse& r) {
                                return r.receipt();
                              }),
                       PrintPlainReceipt);
}

int VerifyReceipt(const Invocation& in) {
  const auto& words = in.args.positional();
  if (words.size() != 3 || words[2].empty()) {
    return UsageError("usage: havenctl consent verify-receipt FILE --key VKEY");
  }
  if (int rc = RequireFlags(in.args, {"key"})) return rc;
  // Repeatable: during a signing-key rotation the manifest lists the
  // agency's verifier_key and next_verifier_key, and either may have
  // signed.
  std::vector<NoteVerifierKey> keys;
  for (const std::string& vkey : in.args.GetAll("key")) {
    auto key = ParseVerifierKey(vkey);
    if (!key.ok()) {
      return UsageError(absl::StrCat("--key: ", key.status().message()));
    }
    keys.push_back(*std::move(key));
  }
  const std::string& path = words[2];
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return UsageError(absl::StrCat("cannot read ", path));
  if (size > kMaxReceiptFileBytes) {
    std::printf("FAILED: %s is not a receipt (larger than %ju bytes)\n",
                path.c_str(), kMaxReceiptFileBytes);
    return kExitVerifyFailed;
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  haven::v1::ConsentReceipt receipt;
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(text.str(), &receipt, strict)
           .ok()) {
    std::printf("FAILED: %s is not a consent receipt (JSON)\n", path.c_str());
    return kExitVerifyFailed;
  }
  const NoteVerifierKey* signer = nullptr;
  absl::Status first_error;
  for (const NoteVerifierKey& key : keys) {
    absl::Status s = VerifyConsentReceipt(receipt, key.public_key);
    if (s.ok()) {
      signer = &key;
      break;
    }
    if (first_error.ok()) first_error = s;
  }
  if (signer == nullptr) {
    std::printf("FAILED: %s\n", std::string(first_error.message()).c_str());
    return kExitVerifyFailed;
  }
  std::printf("OK: signed by %s's key %s\n\n", receipt.issuer().c_str(),
              signer->name.c_str());
  PrintPlainReceipt(receipt);
  return kExitOk;
}

}  // namespace

std::vector<Command> ReceiptCommands() {
  return {
      {"consent",
       "receipt",
       "the survivor's signed receipt of a consent, in plain words",
       "havenctl consent receipt --id ID [--json > receipt.json]\n"
       "  The consent as it stands (terms, status, version), signed by\n"
       "  the node now. --json writes the receipt itself, which\n"
       "  verify-receipt checks with no node. Advocate role.",
       {"id"},
       Receipt},
      {"consent",
       "verify-receipt",
       "check a receipt's signature offline (no node needed)",
       "havenctl consent verify-receipt FILE --key VKEY [--key VKEY]\n"
       "  FILE is a receipt as `consent receipt --json` wrote it; VKEY the\n"
       "  agency's key as the federation manifest publishes it (havenctl\n"
       "  audit key); during a signing-key rotation give both its\n"
       "  verifier_key and next_verifier_key. Exit 0 and the receipt in plain\n"
       "  words if the agency signed exactly this consent, 4 if not.",
       {"key"},
       VerifyReceipt}};
}

}  // namespace haven::client::cli
