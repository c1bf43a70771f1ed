// Builds the object graph from a Config and runs it. The only code that knows the concrete
// store, the real clock and the real randomness.
#pragma once

#include "config/config.h"

namespace sessiond::app {

// Exit statuses of the sessiond process.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // Could not start (store, port, secret).
inline constexpr int kExitUsage = 2;    // Invalid configuration or flags.

// `sessiond serve`: opens and migrates the store, listens, serves until SIGINT/SIGTERM, then
// shuts down gracefully. Prints "sessiond listening on http://HOST:PORT" on stdout once ready
// to accept (tests read the port from it when port is 0).
[[nodiscard]] int Serve(const config::Config& config);

// `sessiond keys rotate`: makes a new JWT signing key active in <dataDir>/jwt-keys.json; the old
// one stays in the JWKS until every token it signed has expired. Running servers reload it.
[[nodiscard]] int RotateKeys(const config::Config& config);

// `sessiond migrate`: applies pending migrations and exits.
[[nodiscard]] int Migrate(const config::Config& config);

}  // namespace sessiond::app
