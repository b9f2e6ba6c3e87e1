// Byte layouts of what the vault stores, and the associated data that binds
// each ciphertext to where it belongs. Internal to server/vault.
//
// RocksDB keys (family kVault) hold only random hex ids:
//   "k/<subject>"           wrapped data key of a subject
//   "r/<subject>/<record>"  record envelope
//
// Wrapped data key value:
//   u8 format (1) | u32 kek_version | sealed(data key)
//   AD = lp("haven/vault/data-key/1") lp(subject) u32 kek_version
//
// Record envelope value:
//   u8 format (1) | u64 version | i64 updated_unix | u32 field_count |
//   field_count x (u32 length | sealed(field))
//   sealed(field) plaintext = lp(name) u32 category | value
//   AD = lp("haven/vault/field/1") lp(subject) lp(record) u64 version
//        i64 updated_unix u32 field_index u32 field_count
//
// Integers are little-endian; lp(x) is a u32 length then the bytes. Field
// names and categories are inside the ciphertext, so the stored envelope
// shows only how many fields a record has and their sizes. All functions are
// pure and thread-safe.
#ifndef HAVEN_SERVER_VAULT_ENVELOPE_H_
#define HAVEN_SERVER_VAULT_ENVELOPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace haven::server::vault {

// Key of the wrapped data key of `subject`.
std::string DataKeyKey(absl::string_view subject);
// Key of one record, and the [begin, end) range of all records of a subject.
std::string RecordKey(absl::string_view subject, absl::string_view record);
std::string RecordPrefix(absl::string_view subject);
std::string RecordRangeEnd(absl::string_view subject);
// Prefix of every wrapped data key, and the end of that range.
inline constexpr absl::string_view kDataKeyPrefix = "k/";
inline constexpr absl::string_view kDataKeyRangeEnd = "k0";

struct WrappedKey {
  uint32_t kek_version = 0;
  std::string sealed;
};
std::string EncodeWrappedKey(const WrappedKey& key);
// nullopt if the bytes are not a well-formed wrapped key.
std::optional<WrappedKey> DecodeWrappedKey(absl::string_view bytes);
std::string DataKeyAd(absl::string_view subject, uint32_t kek_version);

// The sealed fields are views: into the caller's strings when encoding, into
// the decoded bytes when decoding (valid while those bytes are).
struct RecordEnvelope {
  uint64_t version = 0;
  int64_t updated_unix = 0;
  std::vector<absl::string_view> sealed_fields;
};
std::string EncodeRecordEnvelope(const RecordEnvelope& envelope);
// nullopt if the bytes are not a well-formed envelope.
std::optional<RecordEnvelope> DecodeRecordEnvelope(absl::string_view bytes);
std::string FieldAd(absl::string_view subject, absl::string_view record,
                    uint64_t version, int64_t updated_unix, uint32_t index,
                    uint32_t count);

// Plaintext of one sealed field: its header, then the value from
// value_offset to the end.
struct FieldHeader {
  absl::string_view name;  // into the decoded bytes
  int32_t category = 0;
  size_t value_offset = 0;
};
std::string EncodeFieldPlaintext(absl::string_view name, int32_t category,
                                 absl::string_view value);
// nullopt if malformed (only possible if a key was misused, since the bytes
// were authenticated).
std::optional<FieldHeader> DecodeFieldHeader(absl::string_view bytes);

}  // namespace haven::server::vault

#endif  // HAVEN_SERVER_VAULT_ENVELOPE_H_
