// QR codes of otpauth:// URIs for TOTP enrolment, made with libqrencode.
// Thread-safe (libqrencode keeps no shared state once built with
// pthreads, as Debian's is).
#ifndef HAVEN_SERVER_AUTH_QR_CODE_H_
#define HAVEN_SERVER_AUTH_QR_CODE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace haven::server::auth {

struct QrCode {
  // `size` x `size` modules, row by row, one byte each: 1 dark, 0 light.
  // No quiet zone.
  uint32_t size = 0;
  std::string modules;
};

// `text` as a QR code (byte mode, error correction level M, the smallest
// version that holds it). INTERNAL if libqrencode fails (too long).
absl::StatusOr<QrCode> EncodeQr(absl::string_view text);

}  // namespace haven::server::auth

#endif  // HAVEN_SERVER_AUTH_QR_CODE_H_
