// TestManifest: a validated federation manifest of the given members, for
// unit tests of the modules that read membership. Endpoints point nowhere
// (127.0.0.1:1) and fingerprints are made up; no process is involved.
#ifndef HAVEN_TESTS_TESTING_TEST_MANIFEST_H_
#define HAVEN_TESTS_TESTING_TEST_MANIFEST_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "server/federation/manifest.h"

namespace haven::testing {

struct TestMember {
  std::string agency_id;
  haven::v1::Sector sector = haven::v1::VICTIM_SERVICES;
  haven::v1::MemberStatus status = haven::v1::MEMBER_ACTIVE;
};

inline std::shared_ptr<const server::federation::Manifest> TestManifest(
    const std::vector<TestMember>& members, uint64_t serial = 1) {
  haven::v1::FederationManifest proto;
  proto.set_federation("test");
  proto.set_serial(serial);
  int n = 0;
  for (const TestMember& m : members) {
    haven::v1::Member* member = proto.add_members();
    member->set_agency_id(m.agency_id);
    member->set_sector(m.sector);
    member->set_status(m.status);
    member->set_endpoint("127.0.0.1:1");
    member->set_cert_sha256(absl::StrFormat("%064x", ++n));
  }
  auto parsed =
      server::federation::Manifest::Parse(proto.DebugString(), "test");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : nullptr;
}

}  // namespace haven::testing

#endif  // HAVEN_TESTS_TESTING_TEST_MANIFEST_H_
