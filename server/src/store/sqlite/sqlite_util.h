// Internal to the SQLite backend (sqlite_store.cc, migrations.cc): RAII holders for sqlite3* and
// sqlite3_stmt*, the mapping from SQLite result codes to ErrorCode, and typed bind/column helpers.
// Uses the SQLite C API directly; no wrapper library.
//
// Thread-safety: none of its own. A sqlite3* (and its statements) must be used by one thread at a
// time; SqliteStore guarantees that by checking connections out of its pool.
#pragma once

#include <sqlite3.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/error.h"

namespace sessiond::store::sqlite_internal {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
// Owns a connection. Finalize every statement (StmtHandle) of it before this goes.
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
// Owns a prepared statement.
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// True for result codes that mean "the database is unavailable right now" (busy, locked, I/O,
// disk full, cannot open, read-only, corrupt...), as opposed to a bug in the SQL or its use.
[[nodiscard]] inline bool IsUnavailable(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_INTERRUPT:
      return true;
    default:
      return false;
  }
}

// An Error for a failed call: kServiceUnavailable when IsUnavailable(rc), else kInternal. The
// detail is "sqlite: <what>: <sqlite3_errmsg> (code N)"; `what` must name the operation only,
// never a value (no token hashes, passwords or emails in logs). SQLite's own messages name
// columns ("UNIQUE constraint failed: session.token_hash"), never bound values.
[[nodiscard]] inline Error SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string detail = "sqlite: ";
  detail.append(what).append(": ");
  detail.append(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  detail.append(" (code ").append(std::to_string(rc)).append(")");
  return Error{IsUnavailable(rc) ? ErrorCode::kServiceUnavailable : ErrorCode::kInternal,
               std::move(detail)};
}

[[nodiscard]] inline std::unexpected<Error> SqliteFail(sqlite3* db, int rc, std::string_view what) {
  return std::unexpected<Error>(SqliteError(db, rc, what));
}

// Runs SQL without results (one or more statements) on `db`.
[[nodiscard]] inline Result<void> Exec(sqlite3* db, const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteFail(db, rc, what);
  return {};
}

// Binds parameters 1, 2, 3... in call order and remembers the first failure. Text is bound
// SQLITE_STATIC (no copy): the bound strings must outlive the statement's next reset, which
// ScopedStatement does at the end of the caller's scope.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* stmt) : stmt_(stmt) {}

  Binder& Text(std::string_view value) {
    if (value.size() > static_cast<std::size_t>(INT_MAX)) return Record(SQLITE_TOOBIG);
    // A default string_view has data() == nullptr, which SQLite would bind as NULL.
    const char* data = value.data() != nullptr ? value.data() : "";
    return Record(sqlite3_bind_text(stmt_, next_, data, static_cast<int>(value.size()), nullptr));
  }
  Binder& NullableText(const std::optional<std::string>& value) {
    if (!value.has_value()) return Null();
    return Text(*value);
  }
  // Empty → NULL (e.g. an account's password for non-password providers).
  Binder& TextOrNull(std::string_view value) { return value.empty() ? Null() : Text(value); }
  Binder& Int64(std::int64_t value) { return Record(sqlite3_bind_int64(stmt_, next_, value)); }
  Binder& Time(TimePoint value) { return Int64(ToUnixMillis(value)); }
  Binder& Bool(bool value) { return Record(sqlite3_bind_int(stmt_, next_, value ? 1 : 0)); }
  Binder& Null() { return Record(sqlite3_bind_null(stmt_, next_)); }

  // SQLITE_OK, or the first failing bind's code.
  [[nodiscard]] int rc() const { return rc_; }

 private:
  Binder& Record(int rc) {
    if (rc_ == SQLITE_OK && rc != SQLITE_OK) rc_ = rc;
    ++next_;
    return *this;
  }

  sqlite3_stmt* stmt_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
};

[[nodiscard]] inline std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const unsigned char* text = sqlite3_column_text(stmt, col);
  if (text == nullptr) return {};
  int size = sqlite3_column_bytes(stmt, col);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}
[[nodiscard]] inline std::optional<std::string> ColumnNullableText(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL) return std::nullopt;
  return ColumnText(stmt, col);
}
[[nodiscard]] inline std::int64_t ColumnInt64(sqlite3_stmt* stmt, int col) {
  return sqlite3_column_int64(stmt, col);
}
[[nodiscard]] inline TimePoint ColumnTime(sqlite3_stmt* stmt, int col) {
  return FromUnixMillis(sqlite3_column_int64(stmt, col));
}
[[nodiscard]] inline bool ColumnBool(sqlite3_stmt* stmt, int col) {
  return sqlite3_column_int64(stmt, col) != 0;
}

}  // namespace sessiond::store::sqlite_internal
