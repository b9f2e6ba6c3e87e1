#include "server/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace haven::server::metrics {
namespace {

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"}` for the family's label names and `values`, plus `extra`
// (name, value) at the end when given (a histogram's le); "" if empty.
void AppendLabels(const std::vector<std::string>& names,
                  const std::vector<std::string>& values,
                  absl::string_view extra_name, absl::string_view extra_value,
                  std::string* out) {
  if (names.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(out, first ? "" : ",", names[i], "=\"",
                    EscapeLabelValue(values[i]), "\"");
    first = false;
  }
  if (!extra_name.empty()) {
    absl::StrAppend(out, first ? "" : ",", extra_name, "=\"",
                    EscapeLabelValue(extra_value), "\"");
  }
  out->push_back('}');
}

// The text format escapes backslash and newline everywhere, and the double
// quote only inside label values (HELP text is not quoted).
std::string Escape(absl::string_view text, bool in_quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && in_quotes) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  return Escape(value, /*in_quotes=*/true);
}

std::string EscapeHelp(absl::string_view help) {
  return Escape(help, /*in_quotes=*/false);
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (every count) as integers: to_chars would write 1000000
  // as 1e+06.
  if (std::trunc(value) == value && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value,
                                    std::chars_format::general);
  if (error != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buffer, end);
}

std::string RenderText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& f : families) {
    absl::StrAppend(&out, "# HELP ", f.name, " ", EscapeHelp(f.help), "\n");
    absl::StrAppend(&out, "# TYPE ", f.name, " ", TypeName(f.type), "\n");
    if (f.type != MetricType::kHistogram) {
      for (const Sample& s : f.samples) {
        out += f.name;
        AppendLabels(f.label_names, s.label_values, "", "", &out);
        absl::StrAppend(&out, " ", FormatValue(s.value), "\n");
      }
      continue;
    }
    for (const HistogramSample& h : f.histograms) {
      for (size_t i = 0; i < f.bounds.size(); ++i) {
        absl::StrAppend(&out, f.name, "_bucket");
        AppendLabels(f.label_names, h.label_values, "le",
                     FormatValue(f.bounds[i]), &out);
        absl::StrAppend(&out, " ",
                        i < h.bucket_counts.size() ? h.bucket_counts[i] : 0,
                        "\n");
      }
      absl::StrAppend(&out, f.name, "_bucket");
      AppendLabels(f.label_names, h.label_values, "le", "+Inf", &out);
      absl::StrAppend(&out, " ", h.count, "\n");
      absl::StrAppend(&out, f.name, "_sum");
      AppendLabels(f.label_names, h.label_values, "", "", &out);
      absl::StrAppend(&out, " ", FormatValue(h.sum), "\n");
      absl::StrAppend(&out, f.name, "_count");
      AppendLabels(f.label_names, h.label_values, "", "", &out);
      absl::StrAppend(&out, " ", h.count, "\n");
    }
  }
  return out;
}

}  // namespace haven::server::metrics
