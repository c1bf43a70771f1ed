// An incremental parser for server-sent events (WHATWG HTML §9.2.6 "Interpreting an event
// stream"). Internal to the verifier; no I/O.
//
// Bytes arrive in arbitrary pieces (TCP segments, HTTP chunks); lines end in CRLF, LF or CR
// (a CRLF split across two pieces is one line end); a leading UTF-8 BOM is dropped. Fields:
// "event" sets the type, "data" appends a line, "id" sets the last event ID (ignored if it
// contains NUL), "retry" (ASCII digits only) sets the reconnection time; lines starting with
// ':' are comments (sessiond's ": ping" heartbeat); other fields are ignored. A blank line
// dispatches: the last event ID becomes the id buffer's value, and an event with data is
// delivered with type "message" unless "event" named another.
//
// Thread-safety: none; one parser per stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sessiond::verifier::internal {

struct SseEvent {
  std::string type;           // "message" unless an "event" field said otherwise.
  std::string data;           // "data" lines joined with '\n'.
  std::string last_event_id;  // The stream's last event ID when this event was dispatched.
};

class SseParser {
 public:
  // Longest line accepted; a longer one fails the stream (Feed returns false).
  static constexpr std::size_t kMaxLineBytes = std::size_t{64} * 1024;

  // Consumes `bytes`, calling `on_event` for each dispatched event. False if a line is over
  // kMaxLineBytes or `on_event` returned false (the caller should drop the connection); the
  // parser must not be fed again after that.
  [[nodiscard]] bool Feed(std::string_view bytes,
                          const std::function<bool(const SseEvent&)>& on_event);

  // The stream's last event ID (what to send as Last-Event-ID when reconnecting).
  [[nodiscard]] const std::string& last_event_id() const { return last_event_id_; }
  // The last valid "retry" value, if any.
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry() const { return retry_; }
  // Complete lines seen so far (events, comments and blank lines alike): proof of life.
  [[nodiscard]] std::uint64_t lines() const { return lines_; }

 private:
  bool Line(std::string_view line, const std::function<bool(const SseEvent&)>& on_event);

  std::string line_;  // The incomplete line carried over from the previous piece.
  bool started_ = false;
  bool after_cr_ = false;  // The previous byte was a CR: a following LF is part of that end.
  std::string event_type_;
  std::string data_;
  std::string id_buffer_;
  std::string last_event_id_;
  std::optional<std::chrono::milliseconds> retry_;
  std::uint64_t lines_ = 0;
};

}  // namespace sessiond::verifier::internal
