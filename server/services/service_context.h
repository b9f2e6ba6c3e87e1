// ServiceContext: what the gRPC services borrow from the node.
//
// Plain pointers, owned by the Node, which outlives every service. Fields are
// filled in as modules come up; a service whose module is absent answers
// UNAVAILABLE rather than guessing.
#ifndef HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_
#define HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_

#include <string>

#include "absl/time/time.h"
#include "server/auth/authenticator.h"
#include "server/federation/manifest.h"
#include "server/services/work_pool.h"

namespace haven::server::services {

struct ServiceContext {
  std::string agency_id;
  const auth::Authenticator* authenticator = nullptr;
  WorkPool* pool = nullptr;
  federation::FederationRegistry* federation = nullptr;
  std::string version;
  absl::Time started;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_
