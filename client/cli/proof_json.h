// Proofs as havenctl prints and exports them: JSON objects with hashes in
// base64, as tests/e2e/python/verify_log.py and standard verifiers read
// them. Pure; thread-safe.
#ifndef HAVEN_CLIENT_CLI_PROOF_JSON_H_
#define HAVEN_CLIENT_CLI_PROOF_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "haven/v1/audit.pb.h"

namespace haven::client::cli {

std::string B64(absl::string_view bytes);
std::vector<std::string> B64All(
    const google::protobuf::RepeatedPtrField<std::string>& hashes);

// {"leaf_index","tree_size","leaf_hash","hashes"}.
std::string InclusionJson(uint64_t index, uint64_t size,
                          absl::string_view leaf_hash,
                          const std::vector<std::string>& hashes_b64);

// {"old_size","old_root","new_size","hashes"}.
std::string ConsistencyJson(const haven::v1::ConsistencyProof& proof);

}  // namespace haven::client::cli

#endif  // HAVEN_CLIENT_CLI_PROOF_JSON_H_
