#include "server/node/service_manager.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace haven::server::node {

ServiceManager::~ServiceManager() { StopWatchdog(); }

void ServiceManager::Ready(absl::string_view status) {
  // unset_environment=0: a child (none today) could not notify anyway; the
  // variables name a socket, not a secret.
  sd_notify(0, absl::StrCat("READY=1\nSTATUS=", status).c_str());
}

void ServiceManager::StartWatchdog(std::function<bool()> healthy) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  const absl::Duration every = absl::Microseconds(usec) / 2;
  watchdog_ = std::thread([this, every, healthy = std::move(healthy)] {
    absl::MutexLock lock(&mu_);
    while (!mu_.AwaitWithTimeout(absl::Condition(&stop_), every)) {
      if (healthy()) sd_notify(0, "WATCHDOG=1");
    }
  });
}

void ServiceManager::Stopping() {
  StopWatchdog();
  sd_notify(0, "STOPPING=1");
}

void ServiceManager::StopWatchdog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (watchdog_.joinable()) watchdog_.join();
}

}  // namespace haven::server::node
