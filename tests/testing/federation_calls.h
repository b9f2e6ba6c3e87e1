// FederationCalls: the calls end-to-end tests make to the local APIs of a
// TestFederation's nodes, in one place so each test file does not carry its
// own copy: a channel per agency, a call context per role, disclosure
// requests to one holder, the handles an agency holds from it, consents
// recorded and revoked at it, and an agency's whole audit log.
//
// The calls go through the generated gRPC stubs and return grpc::Status, so
// the tests assert on exactly the codes and messages a client sees. A test
// fixture derives from it (beside ::testing::Test) to call these as its own.
// Not thread-safe while Connect runs; the other calls may run concurrently.
#ifndef HAVEN_TESTS_TESTING_FEDERATION_CALLS_H_
#define HAVEN_TESTS_TESTING_FEDERATION_CALLS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "haven/v1/audit.pb.h"
#include "haven/v1/consent.pb.h"
#include "haven/v1/exchange.grpc.pb.h"
#include "haven/v1/records.pb.h"
#include "server/crypto/ed25519_signer.h"
#include "tests/testing/test_federation.h"

namespace haven::testing {

class FederationCalls {
 public:
  // Requests, handles and consents concern `holder`'s records.
  explicit FederationCalls(std::string holder);

  // Calls go to the nodes of `federation`, which must outlive the calls; a
  // fixture sets it once it has made the federation.
  void set_federation(TestFederation* federation) { nodes_ = federation; }

  // (Re)opens the channel to `agency`'s local API; needed again after the
  // node restarts, since its local port changes.
  void Connect(const std::string& agency);
  // Drops every channel: an idle client connection holds up a node's clean
  // stop for its whole shutdown grace period.
  void Disconnect() { channels_.clear(); }
  // The open channel to `agency`'s local API; Connect must have run.
  const std::shared_ptr<grpc::Channel>& channel(
      const std::string& agency) const;
  // A call context for `agency`'s local API as its `role`, bounded.
  std::unique_ptr<grpc::ClientContext> Call(
      const std::string& agency, const std::string& role,
      std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

  // `agency`'s caseworker asks the holder through its own node.
  grpc::Status Request(const std::string& agency, const std::string& handle,
                       haven::v1::Purpose purpose,
                       const std::vector<haven::v1::Category>& categories,
                       haven::v1::RequestDisclosureResponse* response,
                       const std::string& justification = "") const;

  // The handles from the holder that `agency`'s node lists now (each
  // expected to name `agency` as its grantee).
  std::vector<std::string> Handles(const std::string& agency) const;
  // Polls Handles(agency) (bounded, 10 s) until `done` holds for them;
  // returns the last list seen. Handles arrive asynchronously.
  std::vector<std::string> WaitForHandles(
      const std::string& agency,
      const std::function<bool(const std::vector<std::string>&)>& done) const;
  // The first handle the holder pushed to `agency`, waited for (bounded,
  // 10 s); "" with a test failure added if none arrived.
  std::string WaitForHandle(const std::string& agency) const;

  // The holder's caseworker creates a subject with one record of `fields`;
  // returns the subject id, and the record id in `record_id` if not null.
  std::string CreateSubject(const std::vector<haven::v1::Field>& fields,
                            std::string* record_id = nullptr) const;
  // The holder's advocate records `consent`.
  grpc::Status RecordConsent(const haven::v1::Consent& consent,
                             haven::v1::RecordConsentResponse* response) const;
  // The holder's advocate records a consent of `subject` for `grantee` (90
  // days, data life 30 days; its id in `consent_id` if not null) and the
  // handle the holder then pushes to `grantee` is waited for; returns it,
  // or "" with a test failure added.
  std::string ConsentAndWaitForHandle(
      const std::string& subject, const std::string& grantee,
      haven::v1::Purpose purpose,
      const std::vector<haven::v1::Category>& categories,
      std::string* consent_id = nullptr) const;
  // The holder's advocate revokes `consent_id`, giving `reason`.
  grpc::Status Revoke(const std::string& consent_id,
                      const std::string& reason) const;

  // `agency`'s whole audit log, read by its auditor page by page (reads are
  // bounded by count and bytes, so a short page is not the end).
  std::vector<haven::v1::IndexedEntry> Entries(const std::string& agency) const;

 private:
  TestFederation* nodes_ = nullptr;
  std::string holder_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// A record field, for CreateSubject.
haven::v1::Field NewField(const std::string& name, haven::v1::Category category,
                          const std::string& value);

// A consent of `subject` for agency `grantee`, valid from a minute ago for
// 90 days, with `purpose`, `categories` and `data_life_seconds`.
haven::v1::Consent NewConsent(
    const std::string& subject, const std::string& grantee,
    haven::v1::Purpose purpose,
    const std::vector<haven::v1::Category>& categories,
    int64_t data_life_seconds);

// The signing key of `agency`'s node, derived from its master key file as
// the node derives it (to sign what the node would sign); null, with a test
// failure added, if that fails.
std::unique_ptr<server::crypto::Ed25519Signer> NodeSigner(
    const TestFederation& federation, const std::string& agency);

// `requests` as one batch signed with `signer`, as a requester's node sends
// it: what a test acting as that node puts on the holder's peer API.
haven::v1::DiscloseRequest SignedBatch(
    const server::crypto::Ed25519Signer& signer,
    const std::vector<haven::v1::DisclosureRequest>& requests);

// Sends `batch` to `holder`'s peer API through `stub`. On OK, `answers`
// holds the holder's answers (one per request expected), whose batch
// signature is checked against the holder's manifest key.
grpc::Status SendBatch(haven::v1::PeerService::Stub& stub,
                       const TestFederation& federation,
                       const std::string& holder,
                       const haven::v1::DiscloseRequest& batch,
                       std::vector<haven::v1::DisclosureAnswer>* answers);

// A mutual-TLS channel to `to`'s peer API presenting `as`'s certificate:
// the tests acting as a peer node. Make a new one after `to` restarts.
std::shared_ptr<grpc::Channel> PeerChannel(const TestFederation& federation,
                                           const std::string& as,
                                           const std::string& to);

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_FEDERATION_CALLS_H_
