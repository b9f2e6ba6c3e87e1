// The one place the server initialises libsodium.
#ifndef HAVEN_SERVER_CRYPTO_SODIUM_H_
#define HAVEN_SERVER_CRYPTO_SODIUM_H_

namespace haven::server::crypto {

// Initialises libsodium once per process; safe to call from any thread, any
// number of times. Aborts if libsodium cannot initialise (no CSPRNG), since
// nothing the server does is safe without it.
void EnsureSodiumInitialized();

}  // namespace haven::server::crypto

#endif  // HAVEN_SERVER_CRYPTO_SODIUM_H_
