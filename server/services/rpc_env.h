// RpcEnv: what every RPC of the node needs before its body runs, whatever
// module the service adapts: who is calling (the authenticator for the
// local API, the manifest for the peer API), where blocking bodies run (the
// work pool), and whether the node still serves (the storage's fail-stop
// flag). Used by RunUnary, RunPeerUnary and the streaming RPCs.
//
// Plain borrowed pointers, set by the Node before any service starts; the
// Node outlives every service. The pointees are thread-safe.
#ifndef HAVEN_SERVER_SERVICES_RPC_ENV_H_
#define HAVEN_SERVER_SERVICES_RPC_ENV_H_

#include "server/audit/rollback_guard.h"
#include "server/auth/authenticator.h"
#include "server/federation/manifest.h"
#include "server/services/work_pool.h"
#include "server/storage/storage.h"

namespace haven::server::services {

struct RpcEnv {
  const auth::Authenticator* authenticator = nullptr;
  WorkPool* pool = nullptr;
  // Every RPC is refused (UNAVAILABLE) once it has stopped (fail-stop).
  const storage::Storage* storage = nullptr;
  // Identifies peer callers from their certificates (peer API only).
  const federation::FederationRegistry* federation = nullptr;
  // Peer API only: while it holds (a restore not yet confirmed, a log that
  // went back), peers are refused, except the checkpoint exchange that
  // confirms or disproves the log.
  const audit::RollbackGuard* rollback = nullptr;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_RPC_ENV_H_
