// The Prometheus text exposition format, version 0.0.4: what GET /metrics
// returns (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// For each family a "# HELP" and a "# TYPE" line, then one line per series:
// counters and gauges as `name{label="value",...} value`, histograms as
// `name_bucket{...,le="bound"}` for each bound and le="+Inf", then
// `name_sum` and `name_count`. Label values escape backslash, double quote
// and line feed; help text escapes backslash and line feed. Pure functions,
// thread-safe.
#ifndef HAVEN_SERVER_METRICS_EXPOSITION_H_
#define HAVEN_SERVER_METRICS_EXPOSITION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/metrics/registry.h"

namespace haven::server::metrics {

// The Content-Type of the format.
inline constexpr absl::string_view kTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// The whole exposition of `families` (as Registry::Collect returns them).
std::string RenderText(const std::vector<FamilySnapshot>& families);

// `value` as a label value between double quotes: \ " and line feed
// escaped.
std::string EscapeLabelValue(absl::string_view value);
// `help` for a HELP line: \ and line feed escaped.
std::string EscapeHelp(absl::string_view help);
// A sample value: the shortest text that reads back as the same double;
// +Inf, -Inf and NaN as the format spells them.
std::string FormatValue(double value);

}  // namespace haven::server::metrics

#endif  // HAVEN_SERVER_METRICS_EXPOSITION_H_
