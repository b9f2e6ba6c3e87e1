// ServiceManager: tells systemd where havend stands when it runs as a
// Type=notify unit: READY=1 once both endpoints serve, WATCHDOG=1 at half
// the unit's WatchdogSec= while the node is healthy, STOPPING=1 on the way
// out. Started any other way ($NOTIFY_SOCKET unset) it does nothing.
// Thread-safe.
#ifndef HAVEN_SERVER_NODE_SERVICE_MANAGER_H_
#define HAVEN_SERVER_NODE_SERVICE_MANAGER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace haven::server::node {

class ServiceManager {
 public:
  ServiceManager() = default;
  ServiceManager(const ServiceManager&) = delete;
  ServiceManager& operator=(const ServiceManager&) = delete;
  // Stops the watchdog thread.
  ~ServiceManager();

  // READY=1, with `status` as the unit's status line.
  void Ready(absl::string_view status);

  // Pings the watchdog at half its interval for as long as `healthy()`
  // holds: a node that stops being healthy stops pinging, and systemd
  // restarts it. Does nothing when the unit sets no WatchdogSec=.
  void StartWatchdog(std::function<bool()> healthy);

  // STOPPING=1; also stops the watchdog pings.
  void Stopping();

 private:
  void StopWatchdog();

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watchdog_;
};

}  // namespace haven::server::node

#endif  // HAVEN_SERVER_NODE_SERVICE_MANAGER_H_
