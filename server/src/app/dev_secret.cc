#include "app/dev_secret.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "crypto/crypto.h"

namespace sessiond::app {

Result<std::string> LoadOrCreateDevSecret(const std::filesystem::path& dir, Random& random) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return Fail(ErrorCode::kServiceUnavailable,
                "cannot create " + dir.string() + ": " + ec.message());
  const std::filesystem::path path = dir / "dev-secret";

  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path);
    if (!in) return Fail(ErrorCode::kServiceUnavailable, "cannot read " + path.string());
    std::string secret;
    std::getline(in, secret);
    if (secret.size() < 32) return Fail(ErrorCode::kInternal, path.string() + " is too short");
    return secret;
  }

  std::array<std::uint8_t, 32> bytes{};
  random.Fill(bytes);
  std::string secret = crypto::Base64UrlEncode(bytes);
  // O_EXCL: if another process created it first, we fail rather than overwrite its secret.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kServiceUnavailable,
                "cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const std::string line = secret + "\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()) || !synced) {
    return Fail(ErrorCode::kServiceUnavailable, "cannot write " + path.string());
  }
  return secret;
}

}  // namespace sessiond::app
