// FuzzInput: takes typed values off the front of a fuzz input, and
// FuzzInputWriter, its inverse, for the seed generator. A small stand-in for
// libFuzzer's FuzzedDataProvider that builds with any compiler.
//
// Every read succeeds: past the end of the input it yields zeros and empty
// strings, so a harness never has to check lengths and any byte string is a
// valid input. Not thread-safe (one per input).
#ifndef HAVEN_TESTS_FUZZ_FUZZ_INPUT_H_
#define HAVEN_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace haven::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t remaining() const { return size_ - pos_; }

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool Bool() { return (Byte() & 1) != 0; }
  // Little-endian, 8 bytes (zeros past the end).
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{Byte()} << (8 * i);
    return v;
  }
  // Up to `n` bytes, fewer at the end of the input.
  std::string Bytes(size_t n) {
    if (n > remaining()) n = remaining();
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  // One length byte, then that many bytes.
  std::string ShortString() { return Bytes(Byte()); }
  // Everything left.
  std::string Rest() { return Bytes(remaining()); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Writes what FuzzInput reads back, in the same order.
class FuzzInputWriter {
 public:
  FuzzInputWriter& Byte(uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  FuzzInputWriter& U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  FuzzInputWriter& Bytes(const std::string& s) {
    out_ += s;
    return *this;
  }
  // Requires s.size() <= 255.
  FuzzInputWriter& ShortString(const std::string& s) {
    Byte(static_cast<uint8_t>(s.size()));
    return Bytes(s);
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

}  // namespace haven::fuzz

#endif  // HAVEN_TESTS_FUZZ_FUZZ_INPUT_H_
