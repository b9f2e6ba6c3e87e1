#include "server/metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace haven::server::metrics {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// A registration our own code got wrong: stop at start-up, where it shows.
[[noreturn]] void RegistrationBug(absl::string_view name,
                                  absl::string_view why) {
  std::fprintf(stderr, "metrics: cannot register '%.*s': %.*s\n",
               static_cast<int>(name.size()), name.data(),
               static_cast<int>(why.size()), why.data());
  std::abort();
}

template <typename Cell>
std::vector<std::pair<std::vector<std::string>, Cell>> Sorted(
    const SeriesMap<Cell>& series) {
  auto copy = series.Copy();
  std::sort(copy.begin(), copy.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return copy;
}

}  // namespace

absl::Status CheckMetricName(absl::string_view name) {
  bool ok = !name.empty() && (IsNameStart(name[0]) || name[0] == ':');
  for (char c : name) ok = ok && (IsNameChar(c) || c == ':');
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric name '", name, "': expected [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  return absl::OkStatus();
}

absl::Status CheckLabelName(absl::string_view name) {
  bool ok = !name.empty() && IsNameStart(name[0]);
  for (char c : name) ok = ok && IsNameChar(c);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label name '", name, "': expected [a-zA-Z_][a-zA-Z0-9_]*"));
  }
  if (absl::StartsWith(name, "__")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "label name '", name, "': names starting with __ are reserved"));
  }
  return absl::OkStatus();
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

void Counter::Increment(LabelValues labels, double amount) {
  if (!(amount >= 0)) return;  // also NaN
  series_.With(labels, [amount](double& value) { value += amount; });
}

void Gauge::Set(LabelValues labels, double value) {
  series_.With(labels, [value](double& cell) { cell = value; });
}

void Gauge::Add(LabelValues labels, double amount) {
  series_.With(labels, [amount](double& cell) { cell += amount; });
}

void Histogram::Observe(LabelValues labels, double value) {
  if (std::isnan(value)) return;
  // The first bound >= value is the observation's bucket; past the last
  // bound it is counted in +Inf only.
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  series_.With(labels, [&](Cell& cell) {
    if (cell.buckets.empty()) cell.buckets.assign(bounds_.size(), 0);
    if (bucket < cell.buckets.size()) ++cell.buckets[bucket];
    ++cell.count;
    cell.sum += value;
  });
}

Registry::Family& Registry::FamilyFor(absl::string_view name,
                                      absl::string_view help, MetricType type,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds,
                                      bool callback) {
  if (absl::Status s = CheckMetricName(name); !s.ok()) {
    RegistrationBug(name, s.message());
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (absl::Status s = CheckLabelName(label_names[i]); !s.ok()) {
      RegistrationBug(name, s.message());
    }
    if (type == MetricType::kHistogram && label_names[i] == "le") {
      RegistrationBug(name, "a histogram cannot have a label named le");
    }
    for (size_t j = 0; j < i; ++j) {
      if (label_names[j] == label_names[i]) {
        RegistrationBug(name, absl::StrCat("label ", label_names[i], " twice"));
      }
    }
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      RegistrationBug(name, "bucket bounds must be finite and increasing");
    }
  }
  auto it = families_.find(name);
  if (it != families_.end()) {
    Family& existing = *it->second;
    if (callback || existing.collect || existing.type != type ||
        existing.label_names != label_names || existing.bounds != bounds) {
      RegistrationBug(name, "already registered with another shape");
    }
    return existing;
  }
  auto family = std::make_unique<Family>();
  family->help = std::string(help);
  family->type = type;
  family->label_names = std::move(label_names);
  family->bounds = std::move(bounds);
  Family& added = *family;
  families_.emplace(std::string(name), std::move(family));
  return added;
}

Counter* Registry::AddCounter(absl::string_view name, absl::string_view help,
                              std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, MetricType::kCounter,
                        std::move(label_names), {}, false);
  if (f.counter == nullptr) {
    f.counter.reset(new Counter(f.label_names.size()));
  }
  return f.counter.get();
}

Gauge* Registry::AddGauge(absl::string_view name, absl::string_view help,
                          std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, MetricType::kGauge, std::move(label_names),
                        {}, false);
  if (f.gauge == nullptr) f.gauge.reset(new Gauge(f.label_names.size()));
  return f.gauge.get();
}

Histogram* Registry::AddHistogram(absl::string_view name,
                                  absl::string_view help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, MetricType::kHistogram,
                        std::move(label_names), std::move(bounds), false);
  if (f.histogram == nullptr) {
    f.histogram.reset(new Histogram(f.label_names.size(), f.bounds));
  }
  return f.histogram.get();
}

void Registry::AddGaugeCallback(absl::string_view name, absl::string_view help,
                                std::vector<std::string> label_names,
                                std::function<std::vector<Sample>()> collect) {
  absl::MutexLock lock(&mu_);
  Family& f = FamilyFor(name, help, MetricType::kGauge, std::move(label_names),
                        {}, true);
  f.collect = std::move(collect);
}

std::vector<FamilySnapshot> Registry::Collect() const {
  // Families are never removed, so their pointers stay valid once the
  // registry lock is released; each family's series have their own lock,
  // and callbacks run with no lock held.
  std::vector<std::pair<std::string, const Family*>> families;
  {
    absl::MutexLock lock(&mu_);
    families.reserve(families_.size());
    for (const auto& [name, family] : families_) {
      families.emplace_back(name, family.get());
    }
  }
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  std::vector<FamilySnapshot> out;
  out.reserve(families.size());
  for (const auto& [name, family] : families) {
    FamilySnapshot snapshot;
    snapshot.name = name;
    snapshot.help = family->help;
    snapshot.type = family->type;
    snapshot.label_names = family->label_names;
    snapshot.bounds = family->bounds;
    if (family->collect) {
      for (Sample& sample : family->collect()) {
        if (sample.label_values.size() != family->label_names.size()) continue;
        snapshot.samples.push_back(std::move(sample));
      }
      std::sort(snapshot.samples.begin(), snapshot.samples.end(),
                [](const Sample& a, const Sample& b) {
                  return a.label_values < b.label_values;
                });
    } else if (family->counter != nullptr) {
      for (auto& [labels, value] : Sorted(family->counter->series_)) {
        snapshot.samples.push_back({std::move(labels), value});
      }
    } else if (family->gauge != nullptr) {
      for (auto& [labels, value] : Sorted(family->gauge->series_)) {
        snapshot.samples.push_back({std::move(labels), value});
      }
    } else if (family->histogram != nullptr) {
      for (auto& [labels, cell] : Sorted(family->histogram->series_)) {
        HistogramSample h;
        h.label_values = std::move(labels);
        h.bucket_counts.assign(family->bounds.size(), 0);
        uint64_t running = 0;
        for (size_t i = 0; i < cell.buckets.size(); ++i) {
          running += cell.buckets[i];
          h.bucket_counts[i] = running;
        }
        h.count = cell.count;
        h.sum = cell.sum;
        snapshot.histograms.push_back(std::move(h));
      }
    }
    out.push_back(std::move(snapshot));
  }
  return out;
}

}  // namespace haven::server::metrics
