#include "server/vault/envelope.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace haven::server::vault {
namespace {

constexpr uint8_t kFormat = 1;
constexpr absl::string_view kDataKeyDomain = "haven/vault/data-key/1";
constexpr absl::string_view kFieldDomain = "haven/vault/field/1";

template <typename T>
void PutInt(std::string& out, T value) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
}

void PutLp(std::string& out, absl::string_view bytes) {
  PutInt<uint32_t>(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes.data(), bytes.size());
}

// Reads from a byte string; every read checks bounds.
class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}

  template <typename T>
  bool Int(T& value) {
    if (in_.size() < sizeof(T)) return false;
    using U = std::make_unsigned_t<T>;
    U u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      u |= static_cast<U>(static_cast<uint8_t>(in_[i])) << (8 * i);
    }
    value = static_cast<T>(u);
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool Bytes(size_t n, absl::string_view& out) {
    if (in_.size() < n) return false;
    out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Lp(absl::string_view& out) {
    uint32_t n = 0;
    return Int(n) && Bytes(n, out);
  }
  absl::string_view rest() const { return in_; }
  bool done() const { return in_.empty(); }

 private:
  absl::string_view in_;
};

}  // namespace

std::string DataKeyKey(absl::string_view subject) {
  return absl::StrCat(kDataKeyPrefix, subject);
}
std::string RecordKey(absl::string_view subject, absl::string_view record) {
  return absl::StrCat("r/", subject, "/", record);
}
std::string RecordPrefix(absl::string_view subject) {
  return absl::StrCat("r/", subject, "/");
}
std::string RecordRangeEnd(absl::string_view subject) {
  return absl::StrCat("r/", subject, "0");  // '0' sorts right after '/'
}

std::string EncodeWrappedKey(const WrappedKey& key) {
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  PutInt<uint32_t>(out, key.kek_version);
  out.append(key.sealed);
  return out;
}

std::optional<WrappedKey> DecodeWrappedKey(absl::string_view bytes) {
  Reader r(bytes);
  uint8_t format = 0;
  WrappedKey key;
  if (!r.Int(format) || format != kFormat || !r.Int(key.kek_version) ||
      key.kek_version == 0) {
    return std::nullopt;
  }
  key.sealed = std::string(r.rest());
  return key;
}

std::string DataKeyAd(absl::string_view subject, uint32_t kek_version) {
  std::string ad;
  PutLp(ad, kDataKeyDomain);
  PutLp(ad, subject);
  PutInt<uint32_t>(ad, kek_version);
  return ad;
}

std::string EncodeRecordEnvelope(const RecordEnvelope& envelope) {
  size_t size = 1 + 8 + 8 + 4;
  for (const auto& f : envelope.sealed_fields) size += 4 + f.size();
  std::string out;
  out.reserve(size);
  out.push_back(static_cast<char>(kFormat));
  PutInt<uint64_t>(out, envelope.version);
  PutInt<int64_t>(out, envelope.updated_unix);
  PutInt<uint32_t>(out, static_cast<uint32_t>(envelope.sealed_fields.size()));
  for (const auto& f : envelope.sealed_fields) PutLp(out, f);
  return out;
}

std::optional<RecordEnvelope> DecodeRecordEnvelope(absl::string_view bytes) {
  Reader r(bytes);
  uint8_t format = 0;
  uint32_t count = 0;
  RecordEnvelope envelope;
  if (!r.Int(format) || format != kFormat || !r.Int(envelope.version) ||
      !r.Int(envelope.updated_unix) || !r.Int(count)) {
    return std::nullopt;
  }
  // Each field takes at least 4 bytes; refuse counts the input cannot hold
  // before reserving anything.
  if (count > r.rest().size() / 4) return std::nullopt;
  envelope.sealed_fields.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    absl::string_view sealed;
    if (!r.Lp(sealed)) return std::nullopt;
    envelope.sealed_fields.push_back(sealed);
  }
  if (!r.done()) return std::nullopt;
  return envelope;
}

std::string FieldAd(absl::string_view subject, absl::string_view record,
                    uint64_t version, int64_t updated_unix, uint32_t index,
                    uint32_t count) {
  std::string ad;
  PutLp(ad, kFieldDomain);
  PutLp(ad, subject);
  PutLp(ad, record);
  PutInt<uint64_t>(ad, version);
  PutInt<int64_t>(ad, updated_unix);
  PutInt<uint32_t>(ad, index);
  PutInt<uint32_t>(ad, count);
  return ad;
}

std::string EncodeFieldPlaintext(absl::string_view name, int32_t category,
                                 absl::string_view value) {
  std::string out;
  out.reserve(4 + name.size() + 4 + value.size());
  PutLp(out, name);
  PutInt<int32_t>(out, category);
  out.append(value.data(), value.size());
  return out;
}

std::optional<FieldHeader> DecodeFieldHeader(absl::string_view bytes) {
  Reader r(bytes);
  FieldHeader header;
  if (!r.Lp(header.name) || !r.Int(header.category)) return std::nullopt;
  header.value_offset = bytes.size() - r.rest().size();
  return header;
}

}  // namespace haven::server::vault
