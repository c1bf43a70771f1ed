// A minimal HTTP/1.1 GET client over Boost.Beast, as C++20 coroutines on the verifier's
// io_context: whole-body requests (JWKS, feed pages) and a streamed body (the event stream).
// http:// and https:// (OpenSSL through Asio, peer and host name verified). One connection per
// request: the JWKS and feed pages are fetched rarely, the stream keeps its own connection.
// Internal to the verifier.
//
// Nothing here throws on network or protocol errors; they come back as a message for the log.
// Thread-safety: an HttpClient is immutable; use it from the io_context's thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "verifier/url.h"

namespace sessiond::verifier::internal {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  // `tls` must outlive the client and be set iff url.tls.
  HttpClient(BaseUrl url, boost::asio::ssl::context* tls, std::chrono::milliseconds timeout)
      : url_(std::move(url)), tls_(tls), timeout_(timeout) {}

  // GET `target` (path and query). The whole exchange must finish within the timeout and the
  // body must not exceed `max_body` bytes.
  [[nodiscard]] boost::asio::awaitable<std::expected<HttpResponse, std::string>> Get(
      std::string target, HttpHeaders headers, std::size_t max_body) const;

  // GET `target` and hand the body over piece by piece as it arrives, for as long as the
  // server keeps it open. `on_head(status, content_type)` is called once the header is in
  // (within the timeout); returning false ends the exchange without reading the body. Each
  // piece goes to `on_body`; false from it ends the stream. At most `idle` may pass between
  // pieces. Returns why the stream ended (the server closing it is also an error: the stream
  // is meant to stay open), or success if `on_head` declined the body.
  [[nodiscard]] boost::asio::awaitable<std::expected<void, std::string>> Stream(
      std::string target, HttpHeaders headers,
      std::function<bool(unsigned, std::string_view)> on_head,
      std::function<bool(std::string_view)> on_body, std::chrono::milliseconds idle) const;

 private:
  BaseUrl url_;
  boost::asio::ssl::context* tls_;
  std::chrono::milliseconds timeout_;
};

}  // namespace sessiond::verifier::internal
