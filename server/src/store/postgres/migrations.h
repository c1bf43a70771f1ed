// Versioned schema migrations for the PostgreSQL backend, numbered like SQLite's
// (store/sqlite/migrations.h) so that "schema v3" means the same tables in both. Applied in one
// transaction that first takes a transaction-level advisory lock, so when several replicas start
// (or `sessiond migrate` runs) at once, one applies the missing versions and the others wait,
// then find them recorded in `schema_migrations(version INTEGER PRIMARY KEY, applied_at BIGINT)`.
// PostgreSQL's DDL is transactional: a failing migration leaves nothing behind.
//
// The tables go in the connection's current schema (the first existing one on search_path), so
// sessiond can share a database with other software by giving it its own schema
// (`?options=-csearch_path%3Dsessiond` in database.url); the advisory lock is per schema.
//
// Never edit a released migration: append a new version instead.
#pragma once

#include <span>
#include <string_view>

#include "common/error.h"

namespace sessiond::store::postgres_internal {

class Connection;

struct PostgresMigration {
  int version;                   // 1, 2, 3... contiguous, ascending.
  std::string_view description;  // One line, for logs.
  std::string_view sql;          // One or more statements; no BEGIN/COMMIT of its own.
};

// Every migration this build knows, in ascending version order.
[[nodiscard]] std::span<const PostgresMigration> AllPostgresMigrations();

// The version the last migration brings the schema to.
[[nodiscard]] int LatestPostgresSchemaVersion();

// Applies the migrations the database lacks and returns the schema version in force. Idempotent.
// Waits as long as a concurrent migrator holds the lock (no statement timeout: DDL on a large
// table may take minutes). kServiceUnavailable if the server is unreachable; kInternal if a
// migration's SQL fails or the schema was migrated by a newer build (its version is above ours).
[[nodiscard]] Result<int> ApplyPostgresMigrations(Connection& connection);

}  // namespace sessiond::store::postgres_internal
