#include "ratelimit/redis_test_server.h"

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sessiond::ratelimit::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kReadyTimeout = std::chrono::seconds(10);

std::string FindBinary() {
  if (const char* env = std::getenv("SESSIOND_REDIS_SERVER"); env != nullptr && *env != '\0') {
    return env;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// A port nothing listens on right now (bind to 0, read it, close). Another process may take it
// before redis-server binds it; Start retries with a new one when the server exits.
Result<std::uint16_t> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kInternal, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  ::close(fd);
  if (!ok) return Fail(ErrorCode::kInternal, std::string("bind: ") + std::strerror(errno));
  return ntohs(addr.sin_port);
}

std::string LogTail(const std::string& dir) {
  std::ifstream in(dir + "/redis.log");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

std::string ReplyToText(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply.integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string out;
      for (std::size_t i = 0; i < reply.elements; ++i) {
        if (i > 0) out += ',';
        out += ReplyToText(*reply.element[i]);
      }
      return out;
    }
    default:
      return std::string(reply.str, reply.len);
  }
}

}  // namespace

Result<std::unique_ptr<RedisTestServer>> RedisTestServer::Start(std::string password) {
  std::unique_ptr<RedisTestServer> server(new RedisTestServer());
  server->binary_ = FindBinary();
  if (server->binary_.empty()) {
    return Fail(ErrorCode::kInternal,
                "redis-server not found on PATH (apt-get install redis-server, or set "
                "SESSIOND_REDIS_SERVER)");
  }
  server->password_ = std::move(password);
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "sessiond-redis.XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) {
    return Fail(ErrorCode::kInternal, std::string("mkdtemp: ") + std::strerror(errno));
  }
  server->dir_ = dir_template;
  server->socket_path_ = server->dir_ + "/redis.sock";

  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto port = FreePort();
    if (!port) return std::unexpected(port.error());
    server->port_ = *port;
    if (auto spawned = server->Spawn(); !spawned) return std::unexpected(spawned.error());
    auto ready = server->WaitReady();
    if (ready) return server;
    last_error = ready.error().detail;
    (void)server->Kill();
  }
  return Fail(ErrorCode::kInternal, "redis-server did not start: " + last_error);
}

RedisTestServer::~RedisTestServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string RedisTestServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

RedisEndpoint RedisTestServer::endpoint() const {
  RedisEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port_;
  return endpoint;
}

Result<void> RedisTestServer::Spawn() {
  std::vector<std::string> args = {binary_,
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--unixsocket",
                                   socket_path_,
                                   "--unixsocketperm",
                                   "700",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--logfile",
                                   dir_ + "/redis.log"};
  if (!password_.empty()) {
    args.emplace_back("--requirepass");
    args.push_back(password_);
  }
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrorCode::kInternal, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // The parent died before prctl.
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return {};
}

Result<void> RedisTestServer::WaitReady() {
  // A readiness poll with a bound, like waiting for /healthz: PING until PONG.
  const auto deadline = SteadyClock::now() + kReadyTimeout;
  std::string last = "no answer";
  while (SteadyClock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Fail(ErrorCode::kInternal, "redis-server exited (status " + std::to_string(status) +
                                            "); its log:\n" + LogTail(dir_));
    }
    auto pong = Command({"PING"});
    if (pong && *pong == "PONG") return {};
    last = pong ? *pong : pong.error().detail;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Fail(ErrorCode::kInternal, "redis-server did not answer PING within 10 s (" + last +
                                        "); its log:\n" + LogTail(dir_));
}

Result<void> RedisTestServer::Kill() {
  if (pid_ <= 0) return {};
  if (::kill(pid_, SIGKILL) != 0) {
    return Fail(ErrorCode::kInternal, std::string("kill: ") + std::strerror(errno));
  }
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return {};
}

Result<void> RedisTestServer::Restart() {
  if (pid_ > 0) return Fail(ErrorCode::kInternal, "Restart: the server is still running");
  std::error_code ec;
  std::filesystem::remove(socket_path_, ec);
  if (auto spawned = Spawn(); !spawned) return spawned;
  return WaitReady();
}

Result<void> RedisTestServer::Pause() {
  if (pid_ <= 0 || ::kill(pid_, SIGSTOP) != 0) return Fail(ErrorCode::kInternal, "SIGSTOP failed");
  // Wait until it has really stopped, so no command that follows can still be answered.
  int status = 0;
  if (::waitpid(pid_, &status, WUNTRACED) != pid_ || !WIFSTOPPED(status)) {
    return Fail(ErrorCode::kInternal, "redis-server did not stop");
  }
  return {};
}

Result<void> RedisTestServer::Resume() {
  if (pid_ <= 0 || ::kill(pid_, SIGCONT) != 0) return Fail(ErrorCode::kInternal, "SIGCONT failed");
  return {};
}

Result<std::string> RedisTestServer::Command(const std::vector<std::string>& argv) const {
  const timeval timeout{.tv_sec = 2, .tv_usec = 0};
  redisContext* ctx = redisConnectWithTimeout("127.0.0.1", port_, timeout);
  if (ctx == nullptr) return Fail(ErrorCode::kInternal, "redisConnect: out of memory");
  struct Closer {
    redisContext* c;
    ~Closer() { redisFree(c); }
  } closer{ctx};
  if (ctx->err != 0) return Fail(ErrorCode::kServiceUnavailable, ctx->errstr);
  (void)redisSetTimeout(ctx, timeout);
  if (!password_.empty()) {
    auto* auth =
        static_cast<redisReply*>(redisCommand(ctx, "AUTH %b", password_.data(), password_.size()));
    if (auth == nullptr) return Fail(ErrorCode::kServiceUnavailable, ctx->errstr);
    freeReplyObject(auth);
  }
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lens.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(args.size()), args.data(), lens.data()));
  if (reply == nullptr) return Fail(ErrorCode::kServiceUnavailable, ctx->errstr);
  std::string text = ReplyToText(*reply);
  const bool error = reply->type == REDIS_REPLY_ERROR;
  freeReplyObject(reply);
  if (error) return Fail(ErrorCode::kServiceUnavailable, text);
  return text;
}

}  // namespace sessiond::ratelimit::testing
