#include "client/cli/proof_json.h"

#include "absl/strings/escaping.h"
#include "client/cli/json.h"

namespace haven::client::cli {

std::string B64(absl::string_view bytes) { return absl::Base64Escape(bytes); }

std::vector<std::string> B64All(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const std::string& h : hashes) out.push_back(B64(h));
  return out;
}

std::string InclusionJson(uint64_t index, uint64_t size,
                          absl::string_view leaf_hash,
                          const std::vector<std::string>& hashes_b64) {
  return JsonObject()
      .Add("leaf_index", index)
      .Add("tree_size", size)
      .Add("leaf_hash", B64(leaf_hash))
      .Add("hashes", hashes_b64)
      .str();
}

std::string ConsistencyJson(const haven::v1::ConsistencyProof& proof) {
  return JsonObject()
      .Add("old_size", static_cast<uint64_t>(proof.old_size()))
      .Add("old_root", B64(proof.old_root()))
      .Add("new_size", static_cast<uint64_t>(proof.new_size()))
      .Add("hashes", B64All(proof.hashes()))
      .str();
}

}  // namespace haven::client::cli
