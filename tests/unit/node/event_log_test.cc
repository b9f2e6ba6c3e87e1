#include "server/node/event_log.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/stderr_capture.h"

namespace haven::server::node {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using ::haven::testing::StderrCapture;

std::string Capture(absl::string_view event, const EventFields& fields) {
  StderrCapture capture;
  LogEvent(event, fields);
  return capture.Release();
}

struct ParsedLine {
  std::string time, program, agency, event;
  EventFields fields;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Parses one line the way a log shipper would: space-separated words, the
// first four fixed, then key=value where a value is either plain or a
// double-quoted string with \" \\ \n \r \t and \xNN escapes. nullopt on
// anything else, so an ambiguous line fails the test.
std::optional<ParsedLine> ParseLine(const std::string& text) {
  if (text.empty() || text.back() != '\n') return std::nullopt;
  const std::string line = text.substr(0, text.size() - 1);
  for (char c : line) {
    if (static_cast<unsigned char>(c) < 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return std::nullopt;
    }
  }
  ParsedLine parsed;
  size_t pos = 0;
  auto word = [&]() -> std::optional<std::string> {
    size_t end = line.find(' ', pos);
    if (end == std::string::npos) end = line.size();
    if (end == pos) return std::nullopt;
    std::string w = line.substr(pos, end - pos);
    pos = end == line.size() ? end : end + 1;
    return w;
  };
  for (std::string* out :
       {&parsed.time, &parsed.program, &parsed.agency, &parsed.event}) {
    auto w = word();
    if (!w) return std::nullopt;
    *out = *w;
  }
  while (pos < line.size()) {
    size_t eq = line.find('=', pos);
    if (eq == std::string::npos || eq == pos) return std::nullopt;
    std::string key = line.substr(pos, eq - pos);
    if (key.find(' ') != std::string::npos) return std::nullopt;
    pos = eq + 1;
    std::string value;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < line.size()) {
        char c = line[pos++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value += c;
          continue;
        }
        if (pos >= line.size()) return std::nullopt;
        char e = line[pos++];
        switch (e) {
          case '"':
          case '\\':
            value += e;
            break;
          case 'n':
            value += '\n';
            break;
          case 'r':
            value += '\r';
            break;
          case 't':
            value += '\t';
            break;
          case 'x': {
            if (pos + 2 > line.size()) return std::nullopt;
            int hi = HexDigit(line[pos]), lo = HexDigit(line[pos + 1]);
            if (hi < 0 || lo < 0) return std::nullopt;
            value += static_cast<char>(hi * 16 + lo);
            pos += 2;
            break;
          }
          default:
            return std::nullopt;
        }
      }
      if (!closed) return std::nullopt;
      if (pos < line.size()) {
        if (line[pos] != ' ') return std::nullopt;
        ++pos;
      }
    } else {
      auto w = word();
      if (!w) return std::nullopt;
      if (w->find_first_of("\"\\=") != std::string::npos) return std::nullopt;
      value = *w;
    }
    parsed.fields.emplace_back(std::move(key), std::move(value));
  }
  return parsed;
}

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { SetEventLogAgency("safe-harbor"); }
};

TEST_F(EventLogTest, ValuesCannotBreakOrForgeALine) {
  // What a hostile peer might put in a revocation notice's `change`: a line
  // break followed by a line of its own, a carriage return and a terminal
  // escape to hide it, quotes, backslashes and '=' to fake fields.
  const std::string change =
      "revoked\n2026-11-23T12:00:00.000Z havend metro-pd police_notice "
      "subject=abc\r\x1b[2K\t\"quoted\" back\\slash x=y \"\\\x7f end";
  // Without a space, which once kept a value from being quoted at all.
  const std::string unspaced = "revoked\n2026-11-23T12:00:00.000Z";
  std::string out = Capture(
      "revocation_notice_received",
      {{"holder", "legal-aid"}, {"change", change}, {"reason", unspaced}});

  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  std::optional<ParsedLine> parsed = ParseLine(out);
  ASSERT_TRUE(parsed.has_value()) << out;
  EXPECT_EQ(parsed->program, "havend");
  EXPECT_EQ(parsed->agency, "safe-harbor");
  EXPECT_EQ(parsed->event, "revocation_notice_received");
  EXPECT_THAT(parsed->fields,
              ElementsAre(Pair("holder", "legal-aid"), Pair("change", change),
                          Pair("reason", unspaced)));
}

TEST_F(EventLogTest, EveryControlAndNonAsciiByteRoundTrips) {
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  // U+2028 LINE SEPARATOR, which some viewers break lines on.
  all += "\xe2\x80\xa8";
  std::string out = Capture("fail_stop", {{"error", all}});
  std::optional<ParsedLine> parsed = ParseLine(out);
  ASSERT_TRUE(parsed.has_value()) << out;
  EXPECT_THAT(parsed->fields, ElementsAre(Pair("error", all)));
}

TEST_F(EventLogTest, PlainValuesStayUnquoted) {
  // Tests and log shippers match `local=(\S+)` on the start line.
  std::string out = Capture("node_started", {{"version", "0.1.0"},
                                             {"local", "127.0.0.1:7441"},
                                             {"peer", "disabled"},
                                             {"status", "FAILED_PRECONDITION"},
                                             {"by", "legal-aid-admin"}});
  EXPECT_THAT(out,
              HasSubstr(" havend safe-harbor node_started version=0.1.0 "
                        "local=127.0.0.1:7441 peer=disabled "
                        "status=FAILED_PRECONDITION by=legal-aid-admin\n"));
}

TEST_F(EventLogTest, EmptyAndSpacedValuesAreQuoted) {
  std::string out =
      Capture("policy_warning", {{"warning", "two words"}, {"none", ""}});
  EXPECT_THAT(out, HasSubstr(" warning=\"two words\" none=\"\"\n"));
  std::optional<ParsedLine> parsed = ParseLine(out);
  ASSERT_TRUE(parsed.has_value()) << out;
  EXPECT_THAT(parsed->fields,
              ElementsAre(Pair("warning", "two words"), Pair("none", "")));
}

TEST_F(EventLogTest, KeysAndEventNamesCannotBreakALine) {
  SetEventLogAgency("bad agency\n");
  std::string out =
      Capture("bad event\nforged", {{"a key=x\n", "1"}, {"", "2"}});
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  std::optional<ParsedLine> parsed = ParseLine(out);
  ASSERT_TRUE(parsed.has_value()) << out;
  ASSERT_EQ(parsed->fields.size(), 2u) << out;
  EXPECT_EQ(parsed->fields[0].second, "1");
  EXPECT_EQ(parsed->fields[1].second, "2");
}

}  // namespace
}  // namespace haven::server::node
