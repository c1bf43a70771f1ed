// The HTTP/1.1 server (Boost.Beast/Asio): listener, keep-alive connections, limits, a worker
// pool for blocking handlers, graceful shutdown. The only file pair that includes Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "http/router.h"

namespace sessiond::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3000;           // 0 = pick a free port; see Server::port().
  std::uint32_t threads = 0;           // I/O threads; 0 = hardware concurrency.
  std::uint32_t blocking_threads = 0;  // Worker pool for Execution::kBlocking; 0 = cores.
  std::uint32_t max_header_bytes = 8 * 1024;
  std::uint64_t max_body_bytes = 64ULL * 1024;
  std::uint32_t read_timeout_ms = 10'000;
  std::uint32_t idle_timeout_ms = 65'000;
  std::uint32_t max_connections = 10'000;
  std::uint32_t shutdown_grace_ms = 10'000;
  std::vector<std::string> trusted_proxies;  // IPs or CIDRs (v4/v6).
  // Streamed responses (Response::stream): an SSE comment is sent this often so proxies and
  // clients see the connection alive; 0 = never.
  std::uint32_t stream_heartbeat_ms = 15'000;
  // A stream whose client has not yet taken this many queued bytes is dropped (it cannot keep
  // up; the queue would otherwise grow without bound).
  std::size_t max_stream_queue_bytes = 1 << 20;
};

class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. kServiceUnavailable with the reason if the address is unusable.
  [[nodiscard]] Result<void> Listen();
  // The bound port (after Listen).
  [[nodiscard]] std::uint16_t port() const;

  // Serves until Stop() (or SIGINT/SIGTERM when `handle_signals`); then stops accepting,
  // lets in-flight requests finish for up to shutdown_grace_ms, closes everything, returns.
  void Run(bool handle_signals = true);

  // Asks Run to shut down gracefully. Thread-safe.
  void Stop();

  // Runs `task` every `interval` until shutdown (e.g. the sweeper), on the worker pool: never on
  // an I/O thread, so a slow task does not hold up requests. Runs of one task never overlap
  // (the interval counts from the end of the previous run); shutdown waits for a run in
  // progress.
  void Every(std::chrono::milliseconds interval, std::function<void()> task);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `ip` falls within any of `trusted` (exact IPs or CIDR blocks, v4 or v6).
[[nodiscard]] bool IpInList(std::string_view ip, const std::vector<std::string>& trusted);

// The client IP for a request: the right-most X-Forwarded-For entry that is not a trusted
// proxy, when the peer itself is trusted; the peer otherwise.
[[nodiscard]] std::string ClientIp(std::string_view peer_ip, std::optional<std::string_view> xff,
                                   const std::vector<std::string>& trusted_proxies);

}  // namespace sessiond::http
