#include "server/metrics/exposition.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace haven::server::metrics {
namespace {

using ::testing::HasSubstr;

TEST(ExpositionTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain-agency"), "plain-agency");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
}

TEST(ExpositionTest, EscapesHelpButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"b\" c\\d\ne"), "a \"b\" c\\\\d\\ne");
}

TEST(ExpositionTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1e-4), "0.0001");
  EXPECT_EQ(FormatValue(1e-5), "1e-05");
  EXPECT_EQ(FormatValue(1000000), "1000000");
  EXPECT_EQ(FormatValue(-3), "-3");
  // Shortest round trip, in %g style: exponent once it is long.
  EXPECT_EQ(FormatValue(123456789012.5), "1.234567890125e+11");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(ExpositionTest, RendersCountersWithHelpTypeAndEscapedLabels) {
  Registry registry;
  registry
      .AddCounter("haven_test_total", "Things done.\nSecond line \\ here.",
                  {"peer", "reason"})
      ->Increment({"agency-\"q\"", "back\\slash\n"}, 2);
  registry.AddGauge("haven_test_size", "Size.", {})->Set({}, 7);
  EXPECT_EQ(RenderText(registry.Collect()),
            "# HELP haven_test_size Size.\n"
            "# TYPE haven_test_size gauge\n"
            "haven_test_size 7\n"
            "# HELP haven_test_total Things done.\\nSecond line \\\\ here.\n"
            "# TYPE haven_test_total counter\n"
            "haven_test_total{peer=\"agency-\\\"q\\\"\","
            "reason=\"back\\\\slash\\n\"} 2\n");
}

TEST(ExpositionTest, RendersHistogramBucketsSumAndCount) {
  Registry registry;
  Histogram* h = registry.AddHistogram("haven_test_seconds", "Latency.",
                                       {"method"}, {0.005, 0.5});
  h->Observe({"Get"}, 0.001);
  h->Observe({"Get"}, 0.25);
  h->Observe({"Get"}, 3);
  EXPECT_EQ(RenderText(registry.Collect()),
            "# HELP haven_test_seconds Latency.\n"
            "# TYPE haven_test_seconds histogram\n"
            "haven_test_seconds_bucket{method=\"Get\",le=\"0.005\"} 1\n"
            "haven_test_seconds_bucket{method=\"Get\",le=\"0.5\"} 2\n"
            "haven_test_seconds_bucket{method=\"Get\",le=\"+Inf\"} 3\n"
            "haven_test_seconds_sum{method=\"Get\"} 3.251\n"
            "haven_test_seconds_count{method=\"Get\"} 3\n");
}

TEST(ExpositionTest, RendersUnlabelledHistogramWithLeOnly) {
  Registry registry;
  registry.AddHistogram("haven_batch", "Entries.", {}, {1})->Observe({}, 1);
  EXPECT_THAT(RenderText(registry.Collect()),
              HasSubstr("haven_batch_bucket{le=\"1\"} 1\n"
                        "haven_batch_bucket{le=\"+Inf\"} 1\n"
                        "haven_batch_sum 1\n"
                        "haven_batch_count 1\n"));
}

TEST(ExpositionTest, FamilyWithoutSeriesHasOnlyHelpAndType) {
  Registry registry;
  registry.AddCounter("haven_none_total", "Nothing yet.", {"peer"});
  EXPECT_EQ(RenderText(registry.Collect()),
            "# HELP haven_none_total Nothing yet.\n"
            "# TYPE haven_none_total counter\n");
}

}  // namespace
}  // namespace haven::server::metrics
