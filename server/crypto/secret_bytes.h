// SecretBytes: key material held in guarded memory.
//
// Allocated with sodium_malloc (guard pages, mlock where allowed), wiped with
// sodium_memzero on destruction, compared in constant time. There is no
// stream operator and no implicit conversion to a string, so a secret cannot
// reach a log line by accident. Move-only. Not thread-safe to mutate; const
// access from many threads is fine.
#ifndef HAVEN_SERVER_CRYPTO_SECRET_BYTES_H_
#define HAVEN_SERVER_CRYPTO_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace haven::server::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Zero-filled secret of `size` bytes. Aborts if guarded memory cannot be
  // had (the process cannot hold keys safely without it).
  explicit SecretBytes(size_t size);
  // Copies `bytes` into guarded memory. The caller wipes its own copy.
  static SecretBytes CopyFrom(std::span<const uint8_t> bytes);
  // `size` random bytes from the OS CSPRNG.
  static SecretBytes Random(size_t size);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }
  std::span<const uint8_t> span() const { return {data_, size_}; }

  // Constant-time equality.
  bool Equals(const SecretBytes& other) const;

 private:
  void Reset();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_SECRET_BYTES_H_
