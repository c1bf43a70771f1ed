// Transport-neutral request and response types. Routes see only these, never Beast, so the
// routes library compiles without Boost headers and can be tested without a socket.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sessiond::http {

// Header names are compared case-insensitively (RFC 9110 §5.1).
class Headers {
 public:
  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Room for `n` fields without reallocating (an optimisation only).
  void Reserve(std::size_t n) { fields_.reserve(n); }
  // First value of the header, if present.
  [[nodiscard]] std::optional<std::string_view> Get(std::string_view name) const;
  // Every value of the header in order (e.g. several Set-Cookie).
  [[nodiscard]] std::vector<std::string_view> GetAll(std::string_view name) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const {
    return fields_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // Upper case, e.g. "GET".
  std::string path;    // Decoded path without the query, e.g. "/api/auth/get-session".
  std::string query;   // Raw query string without '?', may be empty.
  Headers headers;
  std::string body;
  std::string peer_ip;    // The socket peer.
  std::string client_ip;  // peer_ip, or X-Forwarded-For's client when the peer is trusted.

  // Value of a query parameter (percent-decoded), if present.
  [[nodiscard]] std::optional<std::string> QueryParam(std::string_view name) const;
};

// The write end of a streamed response body (server-sent events and the like), handed to a
// Response's `stream` producer. Thread-safe: Send may be called from any thread at any time;
// the server writes the chunks in the order Send accepted them. The stream ends when the last
// shared_ptr to the sink is released (the server then finishes the body and closes the
// connection), or earlier when the client goes away, the client cannot keep up, or the server
// shuts down: from then on open() is false and Send returns false, and the producer should drop
// the sink.
class EventSink {
 public:
  virtual ~EventSink();
  // Queues `chunk` (e.g. "data: {...}\n\n") for the client. False, and nothing is queued, once
  // the stream is closed; an empty chunk is accepted and ignored.
  virtual bool Send(std::string chunk) = 0;
  // Whether Send can still reach the client.
  [[nodiscard]] virtual bool open() const = 0;
};

// Starts a streamed body; called once, on an I/O thread, after the status line and headers are
// queued. It must not block: it keeps the sink (or hands it to whatever produces the events)
// and returns.
using StreamProducer = std::function<void(std::shared_ptr<EventSink>)>;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, `body` is ignored and the body is streamed: the server sends the status line and
  // the headers (HTTP/1.1: Transfer-Encoding: chunked; the connection closes when the stream
  // ends), then calls `stream` with the sink. A HEAD request gets the headers only and the
  // producer is not called. The read and idle timeouts do not apply to an open stream; the
  // server sends an SSE comment (": ping\n\n") every ServerOptions::stream_heartbeat_ms.
  StreamProducer stream;

  // A JSON response; sets content-type: application/json.
  [[nodiscard]] static Response Json(int status, std::string body);
};

}  // namespace sessiond::http
