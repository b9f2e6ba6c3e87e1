#include "server/crypto/secret_bytes.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "server/crypto/sodium.h"

namespace haven::server::crypto {

void EnsureSodiumInitialized() {
  static const bool initialized = [] { return sodium_init() >= 0; }();
  if (!initialized) std::abort();
}

SecretBytes::SecretBytes(size_t size) : size_(size) {
  EnsureSodiumInitialized();
  if (size == 0) return;
  data_ = static_cast<uint8_t*>(sodium_malloc(size));
  if (data_ == nullptr) std::abort();
  sodium_memzero(data_, size);
}

SecretBytes SecretBytes::CopyFrom(std::span<const uint8_t> bytes) {
  SecretBytes secret(bytes.size());
  if (!bytes.empty()) std::memcpy(secret.data_, bytes.data(), bytes.size());
  return secret;
}

SecretBytes SecretBytes::Random(size_t size) {
  SecretBytes secret(size);
  if (size > 0) randombytes_buf(secret.data_, size);
  return secret;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() { Reset(); }

void SecretBytes::Reset() {
  if (data_ != nullptr) sodium_free(data_);  // sodium_free wipes first
  data_ = nullptr;
  size_ = 0;
}

bool SecretBytes::Equals(const SecretBytes& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace haven::server::crypto
