#include "server/auth/qr_code.h"

#include <qrencode.h>

#include <cstring>
#include <string>

namespace haven::server::auth {

absl::StatusOr<QrCode> EncodeQr(absl::string_view text) {
  // The text holds a secret: the copies made here are wiped.
  std::string copy(text);
  QRcode* code = QRcode_encodeString8bit(copy.c_str(), 0, QR_ECLEVEL_M);
  std::memset(copy.data(), 0, copy.size());
  if (code == nullptr) {
    return absl::InternalError("could not make the enrolment QR code");
  }
  QrCode out;
  out.size = static_cast<uint32_t>(code->width);
  const size_t count = static_cast<size_t>(code->width) * code->width;
  out.modules.resize(count);
  // Bit 0 of each byte is the module's colour; the rest are libqrencode's.
  for (size_t i = 0; i < count; ++i) out.modules[i] = code->data[i] & 1;
  std::memset(code->data, 0, count);
  QRcode_free(code);
  return out;
}

}  // namespace haven::server::auth
