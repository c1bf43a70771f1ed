// Test support: a throwaway redis-server (Debian's redis-server package) as a child process:
// 127.0.0.1 on a free port plus a Unix socket, no persistence (--save '' --appendonly no), in
// its own temp dir. Tests kill, pause and restart it to exercise outages. If redis-server is
// missing or does not start, Start() fails and so does the test: tests never skip.
//
// The binary is $SESSIOND_REDIS_SERVER, else redis-server on $PATH. The child gets SIGKILL if
// the thread that started it dies (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
//
// Thread-safety: not thread-safe; drive it from the test's main thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "ratelimit/redis_url.h"

namespace sessiond::ratelimit::testing {

class RedisTestServer {
 public:
  // Starts a server and waits until it answers PING (at most 10 s). A non-empty `password`
  // makes it require one (--requirepass); Command() then authenticates with it.
  [[nodiscard]] static Result<std::unique_ptr<RedisTestServer>> Start(std::string password = {});
  ~RedisTestServer();  // Kills the server and deletes its dir.
  RedisTestServer(const RedisTestServer&) = delete;
  RedisTestServer& operator=(const RedisTestServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url() const;  // redis://127.0.0.1:PORT/0
  [[nodiscard]] RedisEndpoint endpoint() const;
  [[nodiscard]] const std::string& socket_path() const { return socket_path_; }

  // SIGKILL and wait: every connection drops and the data is gone (nothing is persisted).
  [[nodiscard]] Result<void> Kill();
  // After Kill: starts again on the same port and socket, and waits for PING.
  [[nodiscard]] Result<void> Restart();
  // SIGSTOP: the kernel still accepts connections, but nothing is ever answered.
  [[nodiscard]] Result<void> Pause();
  [[nodiscard]] Result<void> Resume();  // SIGCONT.

  // One command on a fresh connection, for assertions: an integer or a string reply as text,
  // nil as "(nil)", an error as the error; an array's items joined with ','.
  [[nodiscard]] Result<std::string> Command(const std::vector<std::string>& argv) const;

 private:
  RedisTestServer() = default;
  [[nodiscard]] Result<void> Spawn();
  [[nodiscard]] Result<void> WaitReady();

  std::string binary_;
  std::string password_;
  std::string dir_;
  std::string socket_path_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sessiond::ratelimit::testing
