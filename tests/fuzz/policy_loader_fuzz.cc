// Fuzz target: the policy loader (text format and JSON), then compilation
// and one decision, must never crash on any input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "policy/compiled_policy.h"
#include "policy/consents.h"
#include "policy/evaluator.h"
#include "policy/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the format so one corpus covers both.
  const auto format = (data[0] & 1) ? haven::policy::PolicyFormat::kJson
                                    : haven::policy::PolicyFormat::kTextProto;
  const std::string content(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto loaded = haven::policy::LoadPolicy(content, format, "fuzz");
  if (!loaded.ok()) return 0;
  auto compiled = haven::policy::CompiledPolicy::Compile(loaded->policy);
  if (!compiled.ok()) __builtin_trap();  // a loaded policy always compiles
  const int categories[] = {1, 2, 3, 8, 12};
  haven::policy::CategoryResult results[5];
  haven::policy::CompiledConsents consents;
  for (int sector = 0; sector < 8; ++sector) {
    for (int purpose = 1; purpose < 8; ++purpose) {
      (void)haven::policy::Decide(**compiled, consents,
                                  {.requester_agency = "legal-aid",
                                   .requester_sector = sector,
                                   .purpose = purpose,
                                   .categories = categories,
                                   .justification = "fuzz"},
                                  0, results);
    }
  }
  return 0;
}
