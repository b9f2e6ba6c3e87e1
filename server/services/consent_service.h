// ConsentService: advocates record, amend, pause, resume and revoke consent,
// and record or lift a survivor's refusal. Every change is on the audit log;
// a revocation has taken effect when the call returns.
#ifndef HAVEN_SERVER_SERVICES_CONSENT_SERVICE_H_
#define HAVEN_SERVER_SERVICES_CONSENT_SERVICE_H_

#include "haven/v1/audit.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "server/consent/consent_registry.h"
#include "server/services/rpc_macros.h"
#include "server/services/rpc_env.h"

namespace haven::server::services {

class ConsentServiceImpl final
    : public haven::v1::ConsentService::CallbackService {
 public:
  // Both borrowed; they outlive the service.
  ConsentServiceImpl(const RpcEnv& env, consent::ConsentRegistry* consents)
      : env_(env), consents_(consents) {}

  HAVEN_UNARY_RPC(RecordConsent, RecordConsentRequest, RecordConsentResponse,
                  haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(AmendConsent, AmendConsentRequest, AmendConsentResponse,
                  haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(PauseConsent, ChangeConsentStatusRequest,
                  ChangeConsentStatusResponse, haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(ResumeConsent, ChangeConsentStatusRequest,
                  ChangeConsentStatusResponse, haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(RevokeConsent, ChangeConsentStatusRequest,
                  ChangeConsentStatusResponse, haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(RecordRefusal, RecordRefusalRequest, RecordRefusalResponse,
                  haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(LiftRefusal, LiftRefusalRequest, LiftRefusalResponse,
                  haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(GetConsent, GetConsentRequest, GetConsentResponse,
                  haven::v1::ADVOCATE, haven::v1::AUDITOR);
  HAVEN_UNARY_RPC(ListConsents, ListConsentsRequest, ListConsentsResponse,
                  haven::v1::ADVOCATE, haven::v1::AUDITOR);

 private:
  const RpcEnv& env_;
  consent::ConsentRegistry* const consents_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_CONSENT_SERVICE_H_
