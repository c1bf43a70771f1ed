// KeySet::SaveToFile / LoadFromFile / LoadOrCreateFile: the sealed key set in a file, until
// the store has a table for it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "jwt/key_set.h"
#include "jwt/strict_json.h"

namespace sessiond::jwt {
namespace {

namespace json = boost::json;

constexpr std::int64_t kFileVersion = 1;
// A key file holds a handful of keys (one per rotation within a token lifetime); anything
// much larger is not ours.
constexpr std::size_t kMaxFileBytes = std::size_t{1024} * 1024;

std::unexpected<Error> IoError(const std::string& what, const std::filesystem::path& path) {
  return Fail(ErrorCode::kServiceUnavailable,
              what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes the descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  // Closes now and reports failure (close can report a deferred write error).
  [[nodiscard]] bool Close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<void> KeySet::SaveToFile(const std::filesystem::path& path,
                                std::string_view server_secret) const {
  auto sealed = SealAll(server_secret);
  if (!sealed) return std::unexpected(std::move(sealed.error()));
  json::array keys;
  for (const std::string& blob : *sealed) {
    auto object = ParseObjectStrict(blob);
    if (!object) return Fail(ErrorCode::kInternal, "Key::Seal produced invalid JSON");
    keys.emplace_back(std::move(*object));
  }
  json::object file;
  file["version"] = kFileVersion;
  file["keys"] = std::move(keys);
  const std::string content = json::serialize(file) + "\n";

  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail(ErrorCode::kServiceUnavailable,
                "cannot create " + dir.string() + ": " + ec.message());
  }

  // Same directory, so rename() is atomic; a stale temporary from a crash is replaced.
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove", tmp);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return IoError("cannot create", tmp);
  // The umask may only remove bits from 0600, but make the mode explicit anyway.
  if (::fchmod(fd.get(), 0600) != 0 || !WriteAll(fd.get(), content) || ::fsync(fd.get()) != 0 ||
      !fd.Close()) {
    const auto error = IoError("cannot write", tmp);
    ::unlink(tmp.c_str());
    return error;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto error = IoError("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return error;
  }
  // Make the rename itself durable.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) return IoError("cannot sync", dir);
  return {};
}

Result<KeySet> KeySet::LoadFromFile(const std::filesystem::path& path,
                                    std::string_view server_secret) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return IoError("cannot open", path);
  std::string content;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", path);
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > kMaxFileBytes) {
      return Fail(ErrorCode::kInternal, path.string() + " is too large for a key file");
    }
  }

  auto file = ParseObjectStrict(content);
  const json::value* version = file ? file->if_contains("version") : nullptr;
  const json::value* keys = file ? file->if_contains("keys") : nullptr;
  if (version == nullptr || !version->is_int64() || version->get_int64() != kFileVersion ||
      keys == nullptr || !keys->is_array()) {
    return Fail(ErrorCode::kInternal, path.string() + " is not a sessiond JWT key file (v1)");
  }
  std::vector<std::string> sealed;
  for (const json::value& key : keys->get_array()) {
    if (!key.is_object()) return Fail(ErrorCode::kInternal, path.string() + ": bad key entry");
    sealed.push_back(json::serialize(key));
  }
  auto set = UnsealAll(sealed, server_secret);
  if (!set) {
    return Fail(set.error().code, path.string() + ": " + set.error().detail);
  }
  return set;
}

Result<KeySet> KeySet::LoadOrCreateFile(const std::filesystem::path& path,
                                        std::string_view server_secret, Algorithm algorithm,
                                        Random& random, TimePoint now) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (ec) {
    return Fail(ErrorCode::kServiceUnavailable,
                "cannot stat " + path.string() + ": " + ec.message());
  }
  if (exists) {
    auto loaded = LoadFromFile(path, server_secret);
    if (loaded && loaded->Active() == nullptr) {
      return Fail(ErrorCode::kInternal, path.string() + " holds no active key");
    }
    return loaded;
  }
  auto created = Create(algorithm, random, now);
  if (!created) return created;
  if (auto saved = created->SaveToFile(path, server_secret); !saved) {
    return std::unexpected(std::move(saved.error()));
  }
  return created;
}

}  // namespace sessiond::jwt
