// The development secret: when no secret is configured, sessiond generates one on first start
// and keeps it in <data_dir>/dev-secret (mode 0600) so sessions survive restarts. Production
// must set its own (SESSIOND_SECRET); the app logs a loud warning whenever this is used.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"
#include "common/random.h"

namespace sessiond::app {

// Reads the secret from `dir`/dev-secret, or creates it (256 random bits, base64url) if absent.
// Creates `dir` if needed. kServiceUnavailable if the file cannot be read or written;
// kInternal if it exists but holds fewer than 32 characters.
[[nodiscard]] Result<std::string> LoadOrCreateDevSecret(const std::filesystem::path& dir,
                                                        Random& random);

}  // namespace sessiond::app
