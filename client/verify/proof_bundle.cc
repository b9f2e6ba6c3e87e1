#include "client/verify/proof_bundle.h"

#include <array>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/verify/crypto.h"
#include "haven/base/hex.h"
#include "client/verify/merkle.h"
#include "haven/base/limits.h"

namespace haven::client {
namespace {

// The keys, in the one order a bundle may hold them.
constexpr std::array<absl::string_view, 7> kKeys = {
    "format",          "leaf_index", "tree_size",        "leaf",
    "inclusion_proof", "checkpoint", "checkpoint_sha256"};
enum KeyIndex {
  kFormat,
  kLeafIndex,
  kTreeSize,
  kLeaf,
  kInclusionProof,
  kCheckpoint,
  kCheckpointSha256,
};
// A tree of 2^64 leaves needs at most 64 proof hashes.
constexpr size_t kMaxProofHashes = 64;

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed proof bundle: ", what));
}

// One value as it appears in the file, undecoded.
struct RawValue {
  enum Type { kString, kNumber, kStringArray } type = kString;
  std::string text;                // kString, kNumber
  std::vector<std::string> items;  // kStringArray
};

// A parser for the subset of JSON a bundle uses: one object of string,
// unsigned-number and string-array values; no whitespace, no escapes.
class Cursor {
 public:
  explicit Cursor(absl::string_view text) : text_(text) {}

  size_t pos() const { return pos_; }
  bool AtEnd() const { return pos_ == text_.size(); }

  absl::Status Expect(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) {
      return Malformed(
          absl::StrCat("expected '", std::string(1, c), "' at byte ", pos_));
    }
    ++pos_;
    return absl::OkStatus();
  }

  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }

  // A string of printable ASCII other than '"' and '\': every value a
  // bundle holds is base64, hex, decimal or a fixed word, none of which
  // needs an escape, so an escape can only be a second spelling.
  absl::StatusOr<std::string> String() {
    if (absl::Status s = Expect('"'); !s.ok()) return s;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      const char c = text_[pos_];
      if (c < 0x20 || c > 0x7e || c == '\\') {
        return Malformed(absl::StrCat("byte ", pos_,
                                      " is not allowed in a string (no "
                                      "escapes, printable ASCII only)"));
      }
      ++pos_;
    }
    std::string out(text_.substr(start, pos_ - start));
    if (absl::Status s = Expect('"'); !s.ok()) return s;
    return out;
  }

  absl::StatusOr<RawValue> Value() {
    RawValue value;
    if (Peek('"')) {
      auto s = String();
      if (!s.ok()) return s.status();
      value.text = *std::move(s);
      return value;
    }
    if (Peek('[')) {
      ++pos_;
      value.type = RawValue::kStringArray;
      if (Peek(']')) {
        ++pos_;
        return value;
      }
      while (true) {
        if (value.items.size() == kMaxProofHashes) {
          return Malformed(
              absl::StrCat("more than ", kMaxProofHashes, " array items"));
        }
        auto s = String();
        if (!s.ok()) return s.status();
        value.items.push_back(*std::move(s));
        if (Peek(',')) {
          ++pos_;
          continue;
        }
        if (absl::Status s = Expect(']'); !s.ok()) return s;
        return value;
      }
    }
    value.type = RawValue::kNumber;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      ++pos_;
    }
    if (pos_ == start) {
      return Malformed(absl::StrCat("expected a value at byte ", start));
    }
    value.text = std::string(text_.substr(start, pos_ - start));
    return value;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

absl::StatusOr<uint64_t> CanonicalNumber(absl::string_view key,
                                         absl::string_view text) {
  uint64_t n = 0;
  // Digits only (the parser saw to that), no leading zero, no overflow.
  if ((text.size() > 1 && text[0] == '0') || !absl::SimpleAtoi(text, &n)) {
    return Malformed(
        absl::StrCat(key, " is not a canonical decimal number below 2^64"));
  }
  return n;
}

absl::StatusOr<std::string> CanonicalHash(absl::string_view what,
                                          absl::string_view text) {
  if (!IsLowerHex(text, 2 * kSha256Size)) {
    return Malformed(absl::StrCat(what, " is not ", 2 * kSha256Size,
                                  " lower-case hex digits"));
  }
  return absl::HexStringToBytes(text);
}

// Standard alphabet, padded; the only spelling of its bytes (so unused
// low bits of the last character must be zero).
absl::StatusOr<std::string> CanonicalBase64(absl::string_view key,
                                            absl::string_view text) {
  std::string bytes;
  if (!absl::Base64Unescape(text, &bytes) ||
      absl::Base64Escape(bytes) != text) {
    return Malformed(absl::StrCat(key, " is not canonical padded base64"));
  }
  return bytes;
}

const RawValue* Get(const std::array<std::optional<RawValue>, kKeys.size()>& v,
                    KeyIndex key) {
  return v[key].has_value() ? &*v[key] : nullptr;
}

absl::Status WantType(KeyIndex key, const RawValue& value,
                      RawValue::Type type) {
  if (value.type == type) return absl::OkStatus();
  static constexpr std::array<absl::string_view, 3> kNames = {
      "a string", "a number", "an array of strings"};
  return Malformed(
      absl::StrCat(kKeys[key], " must be ", kNames[static_cast<int>(type)]));
}

}  // namespace

std::string FormatProofBundle(const ProofBundle& bundle) {
  std::vector<std::string> hashes;
  hashes.reserve(bundle.inclusion_proof.size());
  for (const std::string& h : bundle.inclusion_proof) {
    hashes.push_back(absl::StrCat("\"", absl::BytesToHexString(h), "\""));
  }
  return absl::StrCat(
      "{\"format\":\"", kProofBundleFormat,
      "\",\"leaf_index\":", bundle.leaf_index,
      ",\"tree_size\":", bundle.tree_size, ",\"leaf\":\"",
      absl::Base64Escape(bundle.leaf), "\",\"inclusion_proof\":[",
      absl::StrJoin(hashes, ","), "],\"checkpoint\":\"",
      absl::Base64Escape(bundle.checkpoint_note), "\",\"checkpoint_sha256\":\"",
      absl::BytesToHexString(Sha256(bundle.checkpoint_note)), "\"}\n");
}

absl::StatusOr<ProofBundle> ParseProofBundle(absl::string_view text) {
  if (text.size() > kMaxProofBundleBytes) {
    return Malformed(absl::StrCat(
        "it is ", text.size(), " bytes; the limit is ", kMaxProofBundleBytes));
  }
  std::array<std::optional<RawValue>, kKeys.size()> values;
  Cursor in(text);
  if (absl::Status s = in.Expect('{'); !s.ok()) return s;
  int previous = -1;
  while (true) {
    const size_t at = in.pos();
    auto key = in.String();
    if (!key.ok()) return key.status();
    int index = -1;
    for (size_t i = 0; i < kKeys.size(); ++i) {
      if (kKeys[i] == *key) index = static_cast<int>(i);
    }
    // Keys are ASCII without quotes or escapes (the parser saw to that),
    // so naming one cannot forge output.
    if (index < 0) {
      return Malformed(absl::StrCat("unknown key \"", *key, "\" at byte ", at));
    }
    if (values[index].has_value()) {
      return Malformed(absl::StrCat("duplicate key \"", *key, "\""));
    }
    if (index < previous) {
      return Malformed(absl::StrCat("key \"", *key,
                                    "\" is out of order (the order is ",
                                    absl::StrJoin(kKeys, ", "), ")"));
    }
    previous = index;
    if (absl::Status s = in.Expect(':'); !s.ok()) return s;
    auto value = in.Value();
    if (!value.ok()) return value.status();
    values[index] = *std::move(value);
    if (in.Peek(',')) {
      (void)in.Expect(',');
      continue;
    }
    if (absl::Status s = in.Expect('}'); !s.ok()) return s;
    break;
  }
  if (absl::Status s = in.Expect('\n'); !s.ok()) {
    return Malformed("the object must be followed by exactly one newline");
  }
  if (!in.AtEnd()) {
    return Malformed(absl::StrCat("trailing data at byte ", in.pos()));
  }
  for (size_t i = 0; i < kKeys.size(); ++i) {
    if (!values[i].has_value()) {
      return Malformed(absl::StrCat("missing key \"", kKeys[i], "\""));
    }
  }

  const RawValue& format = *Get(values, kFormat);
  if (absl::Status s = WantType(kFormat, format, RawValue::kString); !s.ok()) {
    return s;
  }
  if (format.text != kProofBundleFormat) {
    return Malformed(absl::StrCat("format is not \"", kProofBundleFormat,
                                  "\" (unknown version or not a bundle)"));
  }
  ProofBundle bundle;
  for (KeyIndex key : {kLeafIndex, kTreeSize}) {
    const RawValue& value = *Get(values, key);
    if (absl::Status s = WantType(key, value, RawValue::kNumber); !s.ok()) {
      return s;
    }
    auto n = CanonicalNumber(kKeys[key], value.text);
    if (!n.ok()) return n.status();
    (key == kLeafIndex ? bundle.leaf_index : bundle.tree_size) = *n;
  }
  for (KeyIndex key : {kLeaf, kCheckpoint, kCheckpointSha256}) {
    if (absl::Status s = WantType(key, *Get(values, key), RawValue::kString);
        !s.ok()) {
      return s;
    }
  }
  auto leaf = CanonicalBase64(kKeys[kLeaf], Get(values, kLeaf)->text);
  if (!leaf.ok()) return leaf.status();
  bundle.leaf = *std::move(leaf);

  const RawValue& proof = *Get(values, kInclusionProof);
  if (absl::Status s = WantType(kInclusionProof, proof, RawValue::kStringArray);
      !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < proof.items.size(); ++i) {
    auto hash =
        CanonicalHash(absl::StrCat("inclusion_proof[", i, "]"), proof.items[i]);
    if (!hash.ok()) return hash.status();
    bundle.inclusion_proof.push_back(*std::move(hash));
  }

  auto note =
      CanonicalBase64(kKeys[kCheckpoint], Get(values, kCheckpoint)->text);
  if (!note.ok()) return note.status();
  if (note->size() > limits::kMaxCheckpointNoteBytes) {
    return Malformed(absl::StrCat("the checkpoint is ", note->size(),
                                  " bytes; the limit is ",
                                  limits::kMaxCheckpointNoteBytes));
  }
  bundle.checkpoint_note = *std::move(note);
  auto digest = CanonicalHash(kKeys[kCheckpointSha256],
                              Get(values, kCheckpointSha256)->text);
  if (!digest.ok()) return digest.status();
  if (*digest != Sha256(bundle.checkpoint_note)) {
    return Malformed("checkpoint_sha256 is not the SHA-256 of the checkpoint");
  }

  // The checks above leave one spelling for each value; this makes sure of
  // it for the whole file, whatever a future edit to them misses.
  if (FormatProofBundle(bundle) != text) {
    return Malformed("not in canonical form");
  }
  return bundle;
}

absl::StatusOr<VerifiedProofBundle> VerifyProofBundle(
    absl::string_view text, const NoteVerifierKey& key) {
  auto bundle = ParseProofBundle(text);
  if (!bundle.ok()) return bundle.status();

  VerifiedProofBundle out;
  auto body = VerifyCheckpoint(bundle->checkpoint_note, key, "");
  if (!body.ok()) {
    return absl::Status(body.status().code(),
                        absl::StrCat("checkpoint: ", body.status().message()));
  }
  out.checkpoint = *std::move(body);
  // The note parsed inside VerifyCheckpoint, so this cannot fail.
  auto parsed = ParseNote(bundle->checkpoint_note);
  if (parsed.ok()) {
    for (const NoteSignature& sig : parsed->signatures) {
      if (sig.name != key.name || sig.key_id != key.key_id) {
        out.other_signers.push_back(sig.name);
      }
    }
  }
  if (bundle->tree_size != out.checkpoint.tree_size) {
    return absl::DataLossError(absl::StrCat("tree_size ", bundle->tree_size,
                                            " is not the checkpoint's size ",
                                            out.checkpoint.tree_size));
  }
  if (bundle->leaf_index >= bundle->tree_size) {
    return absl::DataLossError(absl::StrCat("leaf_index ", bundle->leaf_index,
                                            " is not below the tree size ",
                                            bundle->tree_size));
  }
  if (absl::Status s = VerifyInclusion(
          bundle->leaf_index, bundle->tree_size, HashLeaf(bundle->leaf),
          bundle->inclusion_proof, out.checkpoint.root_hash);
      !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("inclusion of leaf ", bundle->leaf_index,
                     " in the checkpoint: ", s.message()));
  }
  if (!out.entry.ParseFromString(bundle->leaf)) {
    return absl::DataLossError(
        absl::StrCat("leaf ", bundle->leaf_index,
                     " is in the log but is not an audit entry"));
  }
  out.leaf_index = bundle->leaf_index;
  return out;
}

}  // namespace haven::client
