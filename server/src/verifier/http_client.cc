// GCC 12 at -O2/-O3 reports -Wnull-dereference and -Wmaybe-uninitialized false positives in
// Asio/Beast code inlined here (as in http/server.cc); silenced across the includes only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "verifier/http_client.h"

#include <openssl/ssl.h>

#include <array>
#include <optional>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#pragma GCC diagnostic pop

namespace sessiond::verifier::internal {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using ErrorCode = boost::system::error_code;
using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Request = bhttp::request<bhttp::empty_body>;

std::string Describe(std::string_view what, const ErrorCode& ec) {
  return std::string(what) + ": " + ec.message();
}

Request MakeRequest(const BaseUrl& url, std::string_view target, const HttpHeaders& headers) {
  Request request{bhttp::verb::get, target, 11};
  request.set(bhttp::field::host, url.host_header);
  request.set(bhttp::field::user_agent, "sessiond-verifier");
  for (const auto& [name, value] : headers) request.set(name, value);
  return request;
}

// A connected stream whose deadline (covering connect, TLS handshake, the request and the
// response header) is `timeout` from now.
net::awaitable<std::expected<TcpStream, std::string>> Connect(const BaseUrl& url,
                                                              std::chrono::milliseconds timeout) {
  const auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  ErrorCode ec;
  const auto endpoints = co_await resolver.async_resolve(
      url.host, url.port, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("resolve " + url.host, ec));
  TcpStream stream(executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(endpoints, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("connect " + url.host_header, ec));
  co_return std::move(stream);
}

// TLS client handshake with SNI (unless the host is an IP literal, RFC 6066 §3), the peer's
// chain checked against the context's trust store and its name against the host (RFC 6125).
net::awaitable<std::expected<void, std::string>> Handshake(TlsStream& stream, const BaseUrl& url) {
  ErrorCode ec;
  (void)net::ip::make_address(url.host, ec);
  const bool is_ip = !ec;
  ec = {};
  if (!is_ip) {
    // SSL_set_tlsext_host_name without its C-style cast.
    if (SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(url.host.c_str())) != 1) {
      co_return std::unexpected("tls: cannot set the server name");
    }
  }
  stream.set_verify_mode(net::ssl::verify_peer, ec);
  if (!ec) stream.set_verify_callback(net::ssl::host_name_verification(url.host), ec);
  if (ec) co_return std::unexpected(Describe("tls setup", ec));
  co_await stream.async_handshake(net::ssl::stream_base::client,
                                  net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("tls handshake with " + url.host_header, ec));
  co_return std::expected<void, std::string>{};
}

template <class Stream>
net::awaitable<std::expected<HttpResponse, std::string>> GetOn(Stream& stream, Request request,
                                                               std::size_t max_body) {
  ErrorCode ec;
  co_await bhttp::async_write(stream, request, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("send", ec));
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_body);
  co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("receive", ec));
  auto& response = parser.get();
  co_return HttpResponse{response.result_int(), std::string(response[bhttp::field::content_type]),
                         std::move(response.body())};
}

template <class Stream>
net::awaitable<std::expected<void, std::string>> StreamOn(
    Stream& stream, Request request, const std::function<bool(unsigned, std::string_view)>& on_head,
    const std::function<bool(std::string_view)>& on_body, std::chrono::milliseconds idle) {
  ErrorCode ec;
  co_await bhttp::async_write(stream, request, net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("send", ec));
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);  // The stream does not end; each piece is bounded below.
  co_await bhttp::async_read_header(stream, buffer, parser,
                                    net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return std::unexpected(Describe("receive header", ec));
  if (!on_head(parser.get().result_int(), parser.get()[bhttp::field::content_type])) {
    co_return std::expected<void, std::string>{};
  }
  std::array<char, 8192> piece{};
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    beast::get_lowest_layer(stream).expires_after(idle);
    // read_some returns as soon as the parser made progress, so an event is handed over
    // when it arrives, not when the buffer is full.
    co_await bhttp::async_read_some(stream, buffer, parser,
                                    net::redirect_error(net::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec == beast::error::timeout) co_return std::unexpected("stream: idle timeout");
    if (ec) co_return std::unexpected(Describe("stream", ec));
    const std::size_t got = piece.size() - parser.get().body().size;
    if (got > 0 && !on_body(std::string_view(piece.data(), got))) {
      co_return std::unexpected("stream: refused by the reader");
    }
  }
  co_return std::unexpected("stream: closed by the server");
}

}  // namespace

net::awaitable<std::expected<HttpResponse, std::string>> HttpClient::Get(
    std::string target, HttpHeaders headers, std::size_t max_body) const {
  auto connected = co_await Connect(url_, timeout_);
  if (!connected) co_return std::unexpected(std::move(connected.error()));
  Request request = MakeRequest(url_, target, headers);
  if (tls_ == nullptr) co_return co_await GetOn(*connected, std::move(request), max_body);
  TlsStream stream(std::move(*connected), *tls_);
  auto handshake = co_await Handshake(stream, url_);
  if (!handshake) co_return std::unexpected(std::move(handshake.error()));
  co_return co_await GetOn(stream, std::move(request), max_body);
}

net::awaitable<std::expected<void, std::string>> HttpClient::Stream(
    std::string target, HttpHeaders headers,
    std::function<bool(unsigned, std::string_view)> on_head,
    std::function<bool(std::string_view)> on_body, std::chrono::milliseconds idle) const {
  auto connected = co_await Connect(url_, timeout_);
  if (!connected) co_return std::unexpected(std::move(connected.error()));
  Request request = MakeRequest(url_, target, headers);
  if (tls_ == nullptr) {
    co_return co_await StreamOn(*connected, std::move(request), on_head, on_body, idle);
  }
  TlsStream stream(std::move(*connected), *tls_);
  auto handshake = co_await Handshake(stream, url_);
  if (!handshake) co_return std::unexpected(std::move(handshake.error()));
  co_return co_await StreamOn(stream, std::move(request), on_head, on_body, idle);
}

}  // namespace sessiond::verifier::internal
