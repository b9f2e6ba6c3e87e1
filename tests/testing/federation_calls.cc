#include "tests/testing/federation_calls.h"

#include <thread>
#include <utility>

#include "client/verify/signed_batch.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "haven/v1/audit.grpc.pb.h"
#include "haven/v1/consent.grpc.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.grpc.pb.h"
#include "server/crypto/master_key.h"
#include "server/crypto/node_keys.h"
#include "server/exchange/signing.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_node.h"

namespace haven::testing {

FederationCalls::FederationCalls(std::string holder)
    : holder_(std::move(holder)) {}

void FederationCalls::Connect(const std::string& agency) {
  channels_[agency] = nodes_->node(agency).LocalChannel();
}

const std::shared_ptr<grpc::Channel>& FederationCalls::channel(
    const std::string& agency) const {
  return channels_.at(agency);
}

std::unique_ptr<grpc::ClientContext> FederationCalls::Call(
    const std::string& agency, const std::string& role,
    std::chrono::milliseconds timeout) const {
  return nodes_->node(agency).ClientContext(role, timeout);
}

grpc::Status FederationCalls::Request(
    const std::string& agency, const std::string& handle,
    haven::v1::Purpose purpose,
    const std::vector<haven::v1::Category>& categories,
    haven::v1::RequestDisclosureResponse* response,
    const std::string& justification) const {
  haven::v1::RequestDisclosureRequest request;
  request.set_justification(justification);
  request.set_holder_agency_id(holder_);
  request.set_handle(handle);
  request.set_purpose(purpose);
  for (haven::v1::Category c : categories) request.add_categories(c);
  auto stub = haven::v1::ExchangeService::NewStub(channel(agency));
  return stub->RequestDisclosure(Call(agency, "caseworker").get(), request,
                                 response);
}

std::vector<std::string> FederationCalls::Handles(
    const std::string& agency) const {
  auto stub = haven::v1::ExchangeService::NewStub(channel(agency));
  haven::v1::ListHandlesResponse response;
  grpc::Status status =
      stub->ListHandles(Call(agency, "caseworker").get(),
                        haven::v1::ListHandlesRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> handles;
  for (const auto& handle : response.handles()) {
    if (handle.holder_agency_id() != holder_) continue;
    EXPECT_EQ(handle.grantee_agency_id(), agency);
    handles.push_back(handle.handle());
  }
  return handles;
}

std::vector<std::string> FederationCalls::WaitForHandles(
    const std::string& agency,
    const std::function<bool(const std::vector<std::string>&)>& done) const {
  const auto give_up = In(std::chrono::seconds(10));
  std::vector<std::string> handles = Handles(agency);
  while (!done(handles) && std::chrono::system_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    handles = Handles(agency);
  }
  return handles;
}

std::string FederationCalls::WaitForHandle(const std::string& agency) const {
  std::vector<std::string> handles = WaitForHandles(
      agency, [](const std::vector<std::string>& h) { return !h.empty(); });
  if (handles.empty()) {
    ADD_FAILURE() << agency << " received no handle within 10 s";
    return "";
  }
  return handles.front();
}

std::string FederationCalls::CreateSubject(
    const std::vector<haven::v1::Field>& fields, std::string* record_id) const {
  auto records = haven::v1::RecordService::NewStub(channel(holder_));
  haven::v1::CreateSubjectResponse created;
  grpc::Status status =
      records->CreateSubject(Call(holder_, "caseworker").get(),
                             haven::v1::CreateSubjectRequest(), &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
  haven::v1::PutRecordRequest put;
  put.set_subject_id(created.subject_id());
  for (const haven::v1::Field& field : fields) *put.add_fields() = field;
  haven::v1::PutRecordResponse stored;
  status = records->PutRecord(Call(holder_, "caseworker").get(), put, &stored);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (record_id != nullptr) *record_id = stored.record_id();
  return created.subject_id();
}

grpc::Status FederationCalls::RecordConsent(
    const haven::v1::Consent& consent,
    haven::v1::RecordConsentResponse* response) const {
  haven::v1::RecordConsentRequest request;
  *request.mutable_consent() = consent;
  auto stub = haven::v1::ConsentService::NewStub(channel(holder_));
  return stub->RecordConsent(Call(holder_, "advocate").get(), request,
                             response);
}

std::string FederationCalls::ConsentAndWaitForHandle(
    const std::string& subject, const std::string& grantee,
    haven::v1::Purpose purpose,
    const std::vector<haven::v1::Category>& categories,
    std::string* consent_id) const {
  haven::v1::RecordConsentResponse consent;
  grpc::Status status = RecordConsent(
      NewConsent(subject, grantee, purpose, categories, 30 * 86400), &consent);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (!status.ok()) return "";
  if (consent_id != nullptr) {
    *consent_id = consent.receipt().consent().consent_id();
  }
  return WaitForHandle(grantee);
}

grpc::Status FederationCalls::Revoke(const std::string& consent_id,
                                     const std::string& reason) const {
  haven::v1::ChangeConsentStatusRequest request;
  request.set_consent_id(consent_id);
  request.set_reason(reason);
  auto stub = haven::v1::ConsentService::NewStub(channel(holder_));
  haven::v1::ChangeConsentStatusResponse response;
  return stub->RevokeConsent(Call(holder_, "advocate").get(), request,
                             &response);
}

std::vector<haven::v1::IndexedEntry> FederationCalls::Entries(
    const std::string& agency) const {
  auto stub = haven::v1::AuditService::NewStub(channel(agency));
  std::vector<haven::v1::IndexedEntry> entries;
  constexpr uint64_t kPage = 1000;
  // At most 100 pages: no test writes 100000 entries, and a node that kept
  // answering must not hang the test.
  for (int page = 0; page < 100; ++page) {
    haven::v1::GetEntriesRequest request;
    request.set_start(entries.size());
    request.set_count(kPage);
    haven::v1::GetEntriesResponse response;
    grpc::Status status =
        stub->GetEntries(Call(agency, "auditor").get(), request, &response);
    if (!status.ok() && !entries.empty()) break;  // past the end
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const auto& entry : response.entries()) entries.push_back(entry);
    if (!status.ok() || response.entries().empty()) break;
  }
  return entries;
}

haven::v1::Field NewField(const std::string& name, haven::v1::Category category,
                          const std::string& value) {
  haven::v1::Field field;
  field.set_name(name);
  field.set_category(category);
  field.set_value(value);
  return field;
}

haven::v1::Consent NewConsent(
    const std::string& subject, const std::string& grantee,
    haven::v1::Purpose purpose,
    const std::vector<haven::v1::Category>& categories,
    int64_t data_life_seconds) {
  haven::v1::Consent consent;
  consent.set_subject_id(subject);
  consent.mutable_grantee()->set_agency_id(grantee);
  consent.add_purposes(purpose);
  for (haven::v1::Category c : categories) consent.add_categories(c);
  consent.mutable_valid()->set_from_unix(NowUnix() - 60);
  consent.mutable_valid()->set_until_unix(NowUnix() + 90 * 86400);
  consent.set_data_life_seconds(data_life_seconds);
  return consent;
}

std::unique_ptr<server::crypto::Ed25519Signer> NodeSigner(
    const TestFederation& federation, const std::string& agency) {
  auto master =
      server::crypto::LoadMasterKeyFile(federation.master_key_file(agency));
  EXPECT_TRUE(master.ok()) << master.status();
  if (!master.ok()) return nullptr;
  auto seed = server::crypto::DeriveSigningSeed(*master);
  EXPECT_TRUE(seed.ok()) << seed.status();
  if (!seed.ok()) return nullptr;
  auto signer = server::crypto::Ed25519Signer::FromSeed(*seed);
  EXPECT_TRUE(signer.ok()) << signer.status();
  if (!signer.ok()) return nullptr;
  return *std::move(signer);
}

haven::v1::DiscloseRequest SignedBatch(
    const server::crypto::Ed25519Signer& signer,
    const std::vector<haven::v1::DisclosureRequest>& requests) {
  haven::v1::DiscloseRequest batch;
  for (const auto& r : requests) {
    batch.add_requests(server::exchange::Deterministic(r));
  }
  batch.set_signature(server::exchange::SignBatch(
      signer, client::kRequestBatchContext, batch.requests()));
  return batch;
}

grpc::Status SendBatch(haven::v1::PeerService::Stub& stub,
                       const TestFederation& federation,
                       const std::string& holder,
                       const haven::v1::DiscloseRequest& batch,
                       std::vector<haven::v1::DisclosureAnswer>* answers) {
  grpc::ClientContext context;
  context.set_deadline(In(std::chrono::seconds(15)));
  haven::v1::DiscloseResponse response;
  grpc::Status status = stub.Disclose(&context, batch, &response);
  answers->clear();
  if (!status.ok()) return status;
  EXPECT_TRUE(client::VerifyBatchSignature(
                  federation.verifier_key(holder), client::kAnswerBatchContext,
                  client::BatchDigests(response.answers()),
                  response.signature(), holder)
                  .ok());
  for (const std::string& bytes : response.answers()) {
    EXPECT_TRUE(answers->emplace_back().ParseFromString(bytes));
  }
  EXPECT_EQ(answers->size(), static_cast<size_t>(batch.requests_size()));
  return status;
}

std::shared_ptr<grpc::Channel> PeerChannel(const TestFederation& federation,
                                           const std::string& as,
                                           const std::string& to) {
  const std::string pki = federation.pki_dir();
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFileOrEmpty(pki + "/ca.crt");
  tls.pem_private_key = ReadFileOrEmpty(pki + "/" + as + "/node.key");
  tls.pem_cert_chain = ReadFileOrEmpty(pki + "/" + as + "/node.crt");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(to);
  return grpc::CreateCustomChannel(federation.node(to).peer_address(),
                                   grpc::SslCredentials(tls), args);
}

}  // namespace haven::testing
