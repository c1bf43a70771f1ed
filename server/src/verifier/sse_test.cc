#include "verifier/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace sessiond::verifier::internal {
namespace {

struct Collected {
  std::vector<SseEvent> events;
  bool ok = true;
};

// Feeds `stream` in pieces of `piece` bytes (0 = all at once).
Collected Parse(SseParser& parser, std::string_view stream, std::size_t piece = 0) {
  Collected out;
  const auto on_event = [&](const SseEvent& e) {
    out.events.push_back(e);
    return true;
  };
  if (piece == 0) piece = stream.size() + 1;
  for (std::size_t i = 0; i < stream.size() && out.ok; i += piece) {
    out.ok = parser.Feed(stream.substr(i, piece), on_event);
  }
  return out;
}

// The shape sessiond's feed sends, with every line-ending style and a BOM: the same events
// whatever the pieces' sizes (1 byte at a time splits every CRLF).
TEST(SseParserTest, ParsesTheFeedInAnyPiecesAndLineEndings) {
  const std::string stream =
      "\xEF\xBB\xBFretry: 1000\n\n"
      ": ping\r\n\r\n"
      "id: c/0/1\r\nevent: revocation\r\ndata: {\"sid\":\"a\",\"revokedAt\":1}\r\n\r\n"
      "id: c/0/2\revent: revocation\rdata: {\"sid\":\"b\",\"revokedAt\":2}\r\r"
      "data: one\ndata:two\ndata\n\n";
  for (const std::size_t piece : {0U, 1U, 2U, 3U, 5U, 7U, 64U}) {
    SCOPED_TRACE(piece);
    SseParser parser;
    const Collected got = Parse(parser, stream, piece);
    ASSERT_TRUE(got.ok);
    ASSERT_EQ(got.events.size(), 3U);
    EXPECT_EQ(got.events[0].type, "revocation");
    EXPECT_EQ(got.events[0].data, R"({"sid":"a","revokedAt":1})");
    EXPECT_EQ(got.events[0].last_event_id, "c/0/1");
    EXPECT_EQ(got.events[1].type, "revocation");
    EXPECT_EQ(got.events[1].data, R"({"sid":"b","revokedAt":2})");
    EXPECT_EQ(got.events[1].last_event_id, "c/0/2");
    // "data:two" (no space), a bare "data" line (empty value); the id persists (§9.2.6).
    EXPECT_EQ(got.events[2].type, "message");
    EXPECT_EQ(got.events[2].data, "one\ntwo\n");
    EXPECT_EQ(got.events[2].last_event_id, "c/0/2");
    ASSERT_TRUE(parser.retry().has_value());
    EXPECT_EQ(parser.retry()->count(), 1000);
    EXPECT_EQ(parser.last_event_id(), "c/0/2");
    EXPECT_EQ(parser.lines(), 16U);
  }
}

TEST(SseParserTest, CommentsAndBlankLinesCountAsLinesButDispatchNothing) {
  SseParser parser;
  const Collected got = Parse(parser, ": ping\n\n: ping\n\n");
  EXPECT_TRUE(got.ok);
  EXPECT_TRUE(got.events.empty());
  EXPECT_EQ(parser.lines(), 4U);
}

TEST(SseParserTest, AnIncompleteEventIsNotDispatched) {
  SseParser parser;
  const Collected got = Parse(parser, "id: 7\nevent: revocation\ndata: {}\n");
  EXPECT_TRUE(got.events.empty());
  EXPECT_EQ(parser.last_event_id(), "");  // Only a dispatch moves the last event ID.
  const Collected rest = Parse(parser, "\n");
  ASSERT_EQ(rest.events.size(), 1U);
  EXPECT_EQ(parser.last_event_id(), "7");
}

TEST(SseParserTest, IgnoresBadRetryIdsWithNulAndUnknownFields) {
  SseParser parser;
  static constexpr char kStream[] = "retry: 10x\nretry: -5\nid: a\0b\nfoo: bar\ndata: x\n\n";
  const Collected got = Parse(parser, std::string_view(kStream, sizeof kStream - 1));
  ASSERT_EQ(got.events.size(), 1U);
  EXPECT_FALSE(parser.retry().has_value());
  EXPECT_EQ(got.events[0].last_event_id, "");
}

TEST(SseParserTest, AnEventWithoutDataOnlyMovesTheId) {
  SseParser parser;
  const Collected got = Parse(parser, "id: 9\nevent: revocation\n\ndata: y\n\n");
  ASSERT_EQ(got.events.size(), 1U);
  EXPECT_EQ(got.events[0].type, "message");  // The type was reset by the empty dispatch.
  EXPECT_EQ(got.events[0].last_event_id, "9");
}

TEST(SseParserTest, RefusesAnOverlongLineAndStopsWhenTheReaderSaysSo) {
  SseParser parser;
  const std::string long_line = "data: " + std::string(SseParser::kMaxLineBytes, 'x');
  EXPECT_FALSE(Parse(parser, long_line).ok);  // Even without its line end.

  SseParser stopping;
  int seen = 0;
  EXPECT_FALSE(stopping.Feed("data: 1\n\ndata: 2\n\n", [&](const SseEvent&) {
    ++seen;
    return false;
  }));
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace sessiond::verifier::internal
