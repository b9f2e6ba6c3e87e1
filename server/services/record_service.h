// RecordService: the agency's own records, encrypted in the vault.
// Caseworkers only (advocates may find a subject by its case reference):
// advocates and auditors never read content. Every read
// and write is logged (without content) before it happens.
#ifndef HAVEN_SERVER_SERVICES_RECORD_SERVICE_H_
#define HAVEN_SERVER_SERVICES_RECORD_SERVICE_H_

#include "haven/v1/records.grpc.pb.h"
#include "server/services/rpc_env.h"
#include "server/services/rpc_macros.h"
#include "server/vault/record_desk.h"

namespace haven::server::services {

class RecordServiceImpl final
    : public haven::v1::RecordService::CallbackService {
 public:
  // Both borrowed; they outlive the service.
  RecordServiceImpl(const RpcEnv& env, vault::RecordDesk* desk)
      : env_(env), desk_(desk) {}

  HAVEN_UNARY_RPC(CreateSubject, CreateSubjectRequest, CreateSubjectResponse,
                  haven::v1::CASEWORKER);
  HAVEN_UNARY_RPC(PutRecord, PutRecordRequest, PutRecordResponse,
                  haven::v1::CASEWORKER);
  HAVEN_UNARY_RPC(GetRecord, GetRecordRequest, GetRecordResponse,
                  haven::v1::CASEWORKER);
  HAVEN_UNARY_RPC(ListRecords, ListRecordsRequest, ListRecordsResponse,
                  haven::v1::CASEWORKER);
  HAVEN_UNARY_RPC(FindSubject, FindSubjectRequest, FindSubjectResponse,
                  haven::v1::CASEWORKER, haven::v1::ADVOCATE);
  HAVEN_UNARY_RPC(EraseSubject, EraseSubjectRequest, EraseSubjectResponse,
                  haven::v1::CASEWORKER, haven::v1::ADMIN);

 private:
  const RpcEnv& env_;
  vault::RecordDesk* const desk_;
};

}  // namespace haven::server::services

#endif  // HAVEN_SERVER_SERVICES_RECORD_SERVICE_H_
