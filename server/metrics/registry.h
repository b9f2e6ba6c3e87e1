// Registry: the node's counters, gauges and histograms, for the Prometheus
// endpoint (exposition.h renders what Collect returns).
//
// A metric is a family with a fixed name, help text and label names; each
// distinct tuple of label values is one series. Label values must come
// from small fixed sets (outcome and reason codes, RPC method names,
// status codes, agency ids from the manifest): never a subject id, handle,
// token, record content or any text from a request. A family keeps at most
// kMaxSeriesPerFamily series; samples for further label tuples are
// dropped, so a label fed by mistake with an unbounded value cannot grow
// the node's memory without end.
//
// Names are constants of our own code: an invalid metric or label name, or
// a second registration of a name with another type, labels or buckets, is
// a bug and aborts at registration (at node start), never while serving.
// Registering the same family twice returns the first one. A sample with
// the wrong number of label values is a bug too, but is only dropped:
// a metric is not worth stopping a node that holds records.
//
// The registry depends on Abseil only, so any module may record into it.
// It is not a global: the node owns one and hands modules a pointer
// (nullptr: record nothing). Families live as long as the registry.
// Thread-safe: every method may be called from any thread.
#ifndef HAVEN_SERVER_METRICS_REGISTRY_H_
#define HAVEN_SERVER_METRICS_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace haven::server::metrics {

// Label values of one sample, in the order of the family's label names.
using LabelValues = absl::Span<const absl::string_view>;

enum class MetricType { kCounter, kGauge, kHistogram };

// One series as collected.
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};

// One histogram series as collected. bucket_counts[i] counts observations
// <= bounds[i] (cumulative, as the exposition format wants them); `count`
// is every observation (the +Inf bucket).
struct HistogramSample {
  std::vector<std::string> label_values;
  std::vector<uint64_t> bucket_counts;
  uint64_t count = 0;
  double sum = 0;
};

// A family as collected at one instant; series sorted by label values.
struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;               // histograms only
  std::vector<Sample> samples;              // counters and gauges
  std::vector<HistogramSample> histograms;  // histograms only
};

// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label
// name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). INVALID_ARGUMENT
// saying why otherwise.
absl::Status CheckMetricName(absl::string_view name);
absl::Status CheckLabelName(absl::string_view name);

// Bucket upper bounds start, start*factor, ..., `count` of them.
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// The series of one family: label tuple -> value cell. Thread-safe.
template <typename Cell>
class SeriesMap {
 public:
  explicit SeriesMap(size_t label_count) : label_count_(label_count) {}

  // Runs `update` on the cell of `labels` under the lock; false (nothing
  // done) for a wrong label count or a full family.
  template <typename Update>
  bool With(LabelValues labels, Update update) {
    if (labels.size() != label_count_) return false;
    std::vector<std::string> key(labels.begin(), labels.end());
    absl::MutexLock lock(&mu_);
    auto it = cells_.find(key);
    if (it == cells_.end()) {
      if (cells_.size() >= kMaxSeriesPerFamily) return false;
      it = cells_.emplace(std::move(key), Cell()).first;
    }
    update(it->second);
    return true;
  }
  // Copies every series out, unordered.
  std::vector<std::pair<std::vector<std::string>, Cell>> Copy() const {
    absl::MutexLock lock(&mu_);
    return {cells_.begin(), cells_.end()};
  }

  static constexpr size_t kMaxSeriesPerFamily = 1000;

 private:
  const size_t label_count_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::vector<std::string>, Cell> cells_
      ABSL_GUARDED_BY(mu_);
};

// A counter family: values only go up. Thread-safe.
class Counter {
 public:
  // Adds `amount` (>= 0; a negative amount is dropped) to the series of
  // `labels`.
  void Increment(LabelValues labels, double amount = 1);

 private:
  friend class Registry;
  explicit Counter(size_t label_count) : series_(label_count) {}
  SeriesMap<double> series_;
};

// A gauge family: values set or moved either way. Thread-safe.
class Gauge {
 public:
  void Set(LabelValues labels, double value);
  void Add(LabelValues labels, double amount);

 private:
  friend class Registry;
  explicit Gauge(size_t label_count) : series_(label_count) {}
  SeriesMap<double> series_;
};

// A histogram family with fixed bucket bounds. Thread-safe.
class Histogram {
 public:
  void Observe(LabelValues labels, double value);

 private:
  friend class Registry;
  struct Cell {
    std::vector<uint64_t> buckets;  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  Histogram(size_t label_count, std::vector<double> bounds)
      : bounds_(std::move(bounds)), series_(label_count) {}
  const std::vector<double> bounds_;
  SeriesMap<Cell> series_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family named `name`, made on first call; see the class comment for
  // what aborts. The pointer stays valid as long as the registry.
  Counter* AddCounter(absl::string_view name, absl::string_view help,
                      std::vector<std::string> label_names);
  Gauge* AddGauge(absl::string_view name, absl::string_view help,
                  std::vector<std::string> label_names);
  // `bounds`: finite, strictly increasing upper bounds (the +Inf bucket is
  // implicit); "le" cannot be a label name.
  Histogram* AddHistogram(absl::string_view name, absl::string_view help,
                          std::vector<std::string> label_names,
                          std::vector<double> bounds);
  // A gauge whose series are computed by `collect` at every Collect (tree
  // size, counts of stored things). `collect` runs on the scraping thread
  // without any registry lock held; what it reads must outlive the
  // registry's last Collect, and it must be quick. Its samples' label
  // counts are checked like any other.
  void AddGaugeCallback(absl::string_view name, absl::string_view help,
                        std::vector<std::string> label_names,
                        std::function<std::vector<Sample>()> collect);

  // Every family, in name order, each with its series sorted.
  std::vector<FamilySnapshot> Collect() const;

 private:
  struct Family {
    std::string help;
    MetricType type;
    std::vector<std::string> label_names;
    std::vector<double> bounds;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<std::vector<Sample>()> collect;
  };
  // The family `name` with this shape, made if new; aborts on a bad name or
  // a clash with a family of another shape.
  Family& FamilyFor(absl::string_view name, absl::string_view help,
                    MetricType type, std::vector<std::string> label_names,
                    std::vector<double> bounds, bool callback)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // Node-based so that families (and the pointers handed out) never move.
  absl::flat_hash_map<std::string, std::unique_ptr<Family>> families_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace haven::server::metrics

#endif  // HAVEN_SERVER_METRICS_REGISTRY_H_
