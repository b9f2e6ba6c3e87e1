// ServiceContext: what the gRPC services borrow from the node.
//
// Plain pointers, owned by the Node, which outlives every service. Fields are
// filled in as modules come up; a service whose module is absent answers
// UNAVAILABLE rather than guessing.
#ifndef HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_
#define HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_

#include <string>

#include "server/auth/authenticator.h"

namespace haven::server::services {

struct ServiceContext {
  std::string agency_id;
  const auth::Authenticator* authenticator = nullptr;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_SERVICE_CONTEXT_H_
