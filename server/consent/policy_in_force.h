// PolicyInForce: which sharing policy this node applies, and the two ways
// it changes: at start (Bootstrap: the policy an admin loaded at run time,
// else the config's policy_file) and at run time (Load: validate, compile,
// log POLICY_LOADED with the stored policy in one commit, then apply).
//
// Thread-safe. Loads are serialised so that the policy in force is always
// the one whose commit came last. Borrows everything in Deps; each must
// outlive it.
#ifndef HAVEN_SERVER_CONSENT_POLICY_IN_FORCE_H_
#define HAVEN_SERVER_CONSENT_POLICY_IN_FORCE_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "haven/base/clock.h"
#include "policy/policy_holder.h"
#include "server/audit/audit_recorder.h"
#include "server/consent/policy_store.h"

namespace haven::server::consent {

class PolicyInForce {
 public:
  struct Deps {
    std::string agency_id;
    PolicyStore* store = nullptr;
    policy::PolicyHolder* holder = nullptr;
    const audit::AuditRecorder* audit = nullptr;
    const Clock* clock = nullptr;
  };
  explicit PolicyInForce(Deps deps) : deps_(std::move(deps)) {}

  // Where Bootstrap finds the policy when none was loaded at run time.
  struct BootstrapOptions {
    // The config's policy_file; empty for none (then nothing is shared
    // until a policy is loaded).
    std::string policy_file;
    // How errors about policy_file name it, e.g. "node.textproto:
    // policy_file".
    std::string policy_file_where;
    // Named in errors about the stored policy (it lives there).
    std::string data_dir;
  };
  // Puts the policy in force at start. A policy loaded at run time
  // outlives restarts: it was the admin's last word, logged with its
  // POLICY_LOADED entry; the config's policy_file applies only until the
  // first run-time load. DATA_LOSS if the stored policy is not this node's
  // or not the version recorded with it; FAILED_PRECONDITION if
  // policy_file is another agency's. Logs policy_in_force,
  // policy_file_not_applied and policy_warning events.
  absl::Status Bootstrap(const BootstrapOptions& options);

  struct Loaded {
    uint64_t audit_index = 0;
    std::string version;
    std::vector<std::string> warnings;
  };
  // Replaces the policy in force with `text` (textproto or json, by
  // `format`: "" or "textproto", "json"), loaded by `principal`. A bad
  // policy changes nothing and logs nothing (INVALID_ARGUMENT); a good one
  // is stored and logged in one commit before it takes effect, and a
  // policy_loaded event follows.
  absl::StatusOr<Loaded> Load(const std::string& principal,
                              const std::string& text,
                              const std::string& format);

 private:
  const Deps deps_;
  absl::Mutex load_mu_;
};

}  // namespace haven::server::consent

#endif  // HAVEN_SERVER_CONSENT_POLICY_IN_FORCE_H_
