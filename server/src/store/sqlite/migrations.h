// Versioned schema migrations for the SQLite backend. Each migration is (version, SQL); they are
// applied in ascending order, each in its own BEGIN IMMEDIATE transaction that also re-checks
// and records the version in `schema_migrations(version INTEGER PRIMARY KEY, applied_at
// INTEGER)`, so two processes migrating the same file at once apply each step exactly once.
//
// Never edit a released migration: append a new version instead.
//
// Thread-safety: ApplyMigrations uses the given connection only; the caller must not use that
// connection from another thread meanwhile. Other connections and processes may run concurrently.
#pragma once

#include <span>
#include <string_view>

#include "common/error.h"

struct sqlite3;

namespace sessiond::store {

struct Migration {
  int version;                   // 1, 2, 3... contiguous, ascending.
  std::string_view description;  // One line, for logs.
  std::string_view sql;          // One or more statements; no BEGIN/COMMIT of its own.
};

// Every migration this build knows, in ascending version order.
[[nodiscard]] std::span<const Migration> AllMigrations();

// The version the last migration brings the schema to.
[[nodiscard]] int LatestSchemaVersion();

// Applies the migrations the database behind `db` lacks and returns the schema version in force.
// Idempotent. kServiceUnavailable if the database is busy or unreadable; kInternal if a migration's
// SQL fails or the database was migrated by a newer build (its version is above ours).
[[nodiscard]] Result<int> ApplyMigrations(sqlite3* db);

}  // namespace sessiond::store
