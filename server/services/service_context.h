// ServiceContext: what the gRPC services borrow from the node.
//
// Plain pointers to modules owned by the Node, which sets every one of them
// before any service starts and outlives every service.
#ifndef HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_
#define HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "haven/v1/consent.pb.h"
#include "server/auth/authenticator.h"
#include "server/federation/manifest.h"
#include "server/services/work_pool.h"

namespace haven::server::vault {
class RecordVault;
}
namespace haven::server::consent {
class ConsentRegistry;
class PolicyStore;
}
namespace haven::policy {
class PolicyHolder;
}
namespace haven::server::exchange {
class Holder;
class Requester;
class HandleStore;
class NoticeBoard;
class Witness;
class CosignatureStore;
class GranteeInbox;
}  // namespace haven::server::exchange
namespace haven::server::storage {
class Storage;
}
namespace haven::server::audit {
class AuditRecorder;
}
namespace haven::server::services {

struct ServiceContext {
  std::string agency_id;
  const auth::Authenticator* authenticator = nullptr;
  WorkPool* pool = nullptr;
  federation::FederationRegistry* federation = nullptr;
  std::string version;
  absl::Time started;
  vault::RecordVault* vault = nullptr;
  const audit::AuditRecorder* audit = nullptr;
  consent::ConsentRegistry* consents = nullptr;
  policy::PolicyHolder* policy = nullptr;
  const consent::PolicyStore* policy_store = nullptr;
  exchange::Holder* holder = nullptr;
  exchange::Requester* requester = nullptr;
  exchange::HandleStore* handles = nullptr;
  exchange::NoticeBoard* notices = nullptr;
  exchange::Witness* witness = nullptr;
  exchange::CosignatureStore* cosignatures = nullptr;
  exchange::GranteeInbox* inbox = nullptr;
  // Every RPC is refused (UNAVAILABLE) once it has stopped (fail-stop).
  const storage::Storage* storage = nullptr;

  // A member agency called the peer API to exchange checkpoints (it is up).
  std::function<void(const std::string& agency_id)> on_peer_contact;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_
