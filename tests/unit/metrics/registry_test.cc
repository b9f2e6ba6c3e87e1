#include "server/metrics/registry.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace haven::server::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const FamilySnapshot* Find(const std::vector<FamilySnapshot>& families,
                           const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(RegistryTest, CountsPerLabelTuple) {
  Registry registry;
  Counter* decisions = registry.AddCounter("haven_test_decisions_total",
                                           "Decisions.", {"outcome", "reason"});
  decisions->Increment({"refused", "replay"});
  decisions->Increment({"refused", "replay"});
  decisions->Increment({"disclosed", "permitted"}, 3);
  const auto families = registry.Collect();
  const FamilySnapshot* f = Find(families, "haven_test_decisions_total");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::kCounter);
  ASSERT_EQ(f->samples.size(), 2u);
  // Sorted by label values.
  EXPECT_THAT(f->samples[0].label_values,
              ElementsAre("disclosed", "permitted"));
  EXPECT_EQ(f->samples[0].value, 3);
  EXPECT_THAT(f->samples[1].label_values, ElementsAre("refused", "replay"));
  EXPECT_EQ(f->samples[1].value, 2);
}

TEST(RegistryTest, CounterIgnoresNegativeAmountsAndWrongLabelCounts) {
  Registry registry;
  Counter* c = registry.AddCounter("haven_test_total", "Help.", {"a"});
  c->Increment({"x"}, -1);
  c->Increment({"x", "y"});
  c->Increment({});
  const auto families = registry.Collect();
  EXPECT_THAT(Find(families, "haven_test_total")->samples, IsEmpty());
}

TEST(RegistryTest, SameFamilyTwiceIsTheSameFamily) {
  Registry registry;
  Counter* a = registry.AddCounter("haven_test_total", "Help.", {"a"});
  Counter* b = registry.AddCounter("haven_test_total", "Help.", {"a"});
  EXPECT_EQ(a, b);
}

TEST(RegistryTest, GaugeSetsAndAdds) {
  Registry registry;
  Gauge* g = registry.AddGauge("haven_test_gauge", "Help.", {});
  g->Set({}, 10);
  g->Add({}, -3);
  const auto families = registry.Collect();
  const FamilySnapshot* f = Find(families, "haven_test_gauge");
  ASSERT_EQ(f->samples.size(), 1u);
  EXPECT_EQ(f->samples[0].value, 7);
}

TEST(RegistryTest, GaugeCallbackRunsAtCollectAndDropsMislabelledSamples) {
  Registry registry;
  int calls = 0;
  registry.AddGaugeCallback("haven_test_size", "Help.", {"peer"}, [&calls] {
    ++calls;
    return std::vector<Sample>{{{"b"}, 2}, {{"a"}, 1}, {{"a", "extra"}, 9}};
  });
  EXPECT_EQ(calls, 0);
  const auto families = registry.Collect();
  EXPECT_EQ(calls, 1);
  const FamilySnapshot* f = Find(families, "haven_test_size");
  ASSERT_EQ(f->samples.size(), 2u);
  EXPECT_THAT(f->samples[0].label_values, ElementsAre("a"));
  EXPECT_THAT(f->samples[1].label_values, ElementsAre("b"));
}

TEST(RegistryTest, HistogramBucketsAreCumulativeAndBoundsInclusive) {
  Registry registry;
  Histogram* h =
      registry.AddHistogram("haven_test_seconds", "Help.", {}, {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0}) h->Observe({}, v);
  const auto families = registry.Collect();
  const FamilySnapshot* f = Find(families, "haven_test_seconds");
  ASSERT_EQ(f->histograms.size(), 1u);
  const HistogramSample& s = f->histograms[0];
  // <= 0.1: 0.05, 0.1; <= 1: + 0.5, 1.0; <= 10: + 5.0; +Inf: + 50.
  EXPECT_THAT(s.bucket_counts, ElementsAre(2, 4, 5));
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 56.65);
}

TEST(RegistryTest, ExponentialBucketsMultiply) {
  EXPECT_THAT(ExponentialBuckets(1, 2, 4), ElementsAre(1, 2, 4, 8));
}

TEST(RegistryTest, FamiliesAreCollectedInNameOrder) {
  Registry registry;
  registry.AddCounter("haven_b_total", "B.", {});
  registry.AddGauge("haven_a", "A.", {});
  const auto families = registry.Collect();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "haven_a");
  EXPECT_EQ(families[1].name, "haven_b_total");
}

TEST(RegistryTest, SeriesPerFamilyAreBounded) {
  Registry registry;
  Counter* c = registry.AddCounter("haven_test_total", "Help.", {"k"});
  const size_t limit = SeriesMap<double>::kMaxSeriesPerFamily;
  for (size_t i = 0; i < limit + 10; ++i) {
    c->Increment({std::to_string(i)});
  }
  const auto families = registry.Collect();
  EXPECT_EQ(Find(families, "haven_test_total")->samples.size(), limit);
}

TEST(RegistryTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  Counter* c = registry.AddCounter("haven_test_total", "Help.", {"worker"});
  Histogram* h =
      registry.AddHistogram("haven_test_seconds", "Help.", {}, {0.5, 1});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string label = t % 2 == 0 ? "even" : "odd";
      for (int i = 0; i < kPerThread; ++i) {
        c->Increment({label});
        h->Observe({}, 0.25);
      }
    });
  }
  // Scrapes while the counts move.
  for (int i = 0; i < 20; ++i) registry.Collect();
  for (auto& t : threads) t.join();
  const auto families = registry.Collect();
  const FamilySnapshot* f = Find(families, "haven_test_total");
  ASSERT_EQ(f->samples.size(), 2u);
  EXPECT_EQ(f->samples[0].value, kThreads / 2 * kPerThread);
  EXPECT_EQ(f->samples[1].value, kThreads / 2 * kPerThread);
  const HistogramSample& s =
      Find(families, "haven_test_seconds")->histograms[0];
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_THAT(s.bucket_counts,
              ElementsAre(kThreads * kPerThread, kThreads * kPerThread));
}

TEST(RegistryTest, NamesAreChecked) {
  EXPECT_TRUE(CheckMetricName("haven_rpc_duration_seconds").ok());
  EXPECT_TRUE(CheckMetricName("a:b").ok());
  EXPECT_FALSE(CheckMetricName("").ok());
  EXPECT_FALSE(CheckMetricName("9lives").ok());
  EXPECT_FALSE(CheckMetricName("haven-rpc").ok());
  EXPECT_TRUE(CheckLabelName("peer").ok());
  EXPECT_FALSE(CheckLabelName("__name__").ok());
  EXPECT_FALSE(CheckLabelName("a:b").ok());
  EXPECT_FALSE(CheckLabelName("").ok());
}

TEST(RegistryDeathTest, InvalidRegistrationsAbort) {
  Registry registry;
  EXPECT_DEATH(registry.AddCounter("bad-name", "Help.", {}), "bad-name");
  EXPECT_DEATH(registry.AddCounter("haven_x_total", "Help.", {"a", "a"}),
               "twice");
  EXPECT_DEATH(registry.AddHistogram("haven_h", "Help.", {"le"}, {1}), "le");
  EXPECT_DEATH(registry.AddHistogram("haven_h", "Help.", {}, {2, 1}),
               "increasing");
  registry.AddCounter("haven_y_total", "Help.", {"a"});
  EXPECT_DEATH(registry.AddGauge("haven_y_total", "Help.", {"a"}),
               "another shape");
}

}  // namespace
}  // namespace haven::server::metrics
