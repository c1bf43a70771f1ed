// Internal to the PostgreSQL backend (postgres_store.cc, migrations.cc): one libpq connection
// driven through libpq's asynchronous API, so that every wait — connecting, sending, waiting for
// a result — has a deadline and a dead or silent server costs a bounded time, never a hang. Also
// the mapping from SQLSTATEs to ErrorCode and the text-format parameter / column helpers.
//
// Uses libpq directly; no wrapper library. Values travel in libpq's text format: parameters as
// NUL-terminated strings, columns read back with PQgetvalue.
//
// Thread-safety: none of its own. A Connection is used by one thread at a time; PostgresStore
// guarantees that by checking connections out of its pool.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace sessiond::store::postgres_internal {

using SteadyTime = std::chrono::steady_clock::time_point;
// When a wait gives up; std::nullopt waits as long as it takes (migrations only).
using Deadline = std::optional<SteadyTime>;

struct ResultClearer {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};
// Owns a PGresult.
using ResultHandle = std::unique_ptr<PGresult, ResultClearer>;

// True for SQLSTATEs that mean "the database cannot serve this right now" and a retry may work:
// class 08 (connection exception), 53 (insufficient resources), 57 (operator intervention:
// statement timeout, admin shutdown, cannot connect now), 58 (system error), 40001/40P01
// (serialization failure, deadlock) and 55P03 (lock not available). Anything else — constraint
// violations, syntax, undefined objects — is a bug or a broken invariant.
[[nodiscard]] bool IsUnavailableSqlState(std::string_view sqlstate);

// A failed statement's SQLSTATE and constraint name (for callers that tell one unique violation
// from another); empty when the failure was not an error reported by the server.
struct SqlFailure {
  std::string sqlstate;
  std::string constraint;
};

// Text-format statement parameters $1, $2... in call order, each copied so it is NUL-terminated.
// PostgreSQL's text type cannot hold U+0000, so a string containing a NUL byte is remembered and
// the statement is refused before it is sent (has_nul()).
class Params {
 public:
  Params& Text(std::string_view value);
  Params& NullableText(const std::optional<std::string>& value);
  // Empty → NULL (e.g. an account's password for non-password providers).
  Params& TextOrNull(std::string_view value) { return value.empty() ? Null() : Text(value); }
  Params& Int64(std::int64_t value) { return Add(std::to_string(value)); }
  Params& Time(TimePoint value) { return Int64(ToUnixMillis(value)); }
  Params& Bool(bool value) { return Add(value ? "t" : "f"); }
  Params& Null();
  // A text[] array literal of `values` ({"a","b"}), each element quoted and escaped.
  Params& TextArray(std::span<const std::string> values);

  [[nodiscard]] bool has_nul() const { return has_nul_; }
  [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
  // The value pointers for PQsendQueryPrepared; valid until this object changes.
  [[nodiscard]] const char* const* Pointers();

 private:
  Params& Add(std::string value);

  std::vector<std::optional<std::string>> values_;
  std::vector<const char*> pointers_;
  bool has_nul_ = false;
};

// Column readers for text-format results. A NULL reads as "" / std::nullopt / 0 / false.
[[nodiscard]] std::string ColumnText(const PGresult* result, int row, int col);
[[nodiscard]] std::optional<std::string> ColumnNullableText(const PGresult* result, int row,
                                                            int col);
[[nodiscard]] std::int64_t ColumnInt64(const PGresult* result, int row, int col);
[[nodiscard]] inline TimePoint ColumnTime(const PGresult* result, int row, int col) {
  return FromUnixMillis(ColumnInt64(result, row, col));
}
[[nodiscard]] bool ColumnBool(const PGresult* result, int row, int col);
// Rows a command affected (PQcmdTuples), 0 if it reports none.
[[nodiscard]] std::int64_t AffectedRows(const PGresult* result);

struct ConnectOptions {
  std::string url;  // A libpq connection URI or key=value string; may hold a password.
  std::chrono::milliseconds connect_timeout{5000};
  // Sent as the session's statement_timeout; the client gives up on an answer after this plus
  // kClientGrace (the server normally cancels first, leaving the connection usable).
  std::chrono::milliseconds statement_timeout{5000};
};

// How much longer than statement_timeout the client waits for an answer before it declares the
// connection dead (server frozen, network partitioned).
inline constexpr std::chrono::milliseconds kClientGrace{1000};

// One server connection, in non-blocking mode, with its prepared-statement cache.
class Connection {
 public:
  // Connects within options.connect_timeout (libpq's own connect_timeout is not used: it has a
  // whole-second resolution and does not bound the TLS and authentication exchanges), then sets
  // the session's statement_timeout. `statement_slots` is the number of distinct prepared
  // statements the caller will use. kServiceUnavailable with libpq's reason on failure.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> Open(const ConnectOptions& options,
                                                                std::size_t statement_slots);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // False once a failure left the connection unusable: lost, out of step mid-statement after a
  // client-side timeout, or any error libpq reported without a server SQLSTATE. Such a
  // connection must be closed, never reused.
  [[nodiscard]] bool broken() const { return broken_; }
  // True if broken because the connection itself failed (reset, EOF, the server went away), as
  // opposed to the client giving up on a slow answer. Only then is a retry on a new connection
  // worth it: after a timeout it would double the wait.
  [[nodiscard]] bool lost() const { return lost_; }

  // For a connection about to be reused from the pool: false if it is broken, not idle, or its
  // socket is readable. An idle connection expects nothing from the server, so readable means
  // the server said goodbye (a terminating backend's FATAL message, or EOF after a restart):
  // cheaper to replace it now than to fail the caller's statement on it.
  [[nodiscard]] bool LooksAlive();

  [[nodiscard]] PGTransactionStatusType transaction_status() const {
    return PQtransactionStatus(conn_);
  }

  // The libpq connection, for the LISTEN connection (pg_listener.cc), which waits on its socket
  // and reads notifications itself (PQsocket, PQconsumeInput, PQnotifies) between statements.
  [[nodiscard]] PGconn* native_handle() const { return conn_; }

  // The server this connection reached, "host:port/dbname" (never the user or password).
  [[nodiscard]] std::string Describe() const;

  // now + statement_timeout + kClientGrace: the default deadline for one statement.
  [[nodiscard]] SteadyTime StatementDeadline() const;

  // Runs prepared statement `slot` (text `sql`), preparing it on this connection first if it
  // has not been (PQprepare once per connection). The result is PGRES_COMMAND_OK or
  // PGRES_TUPLES_OK; on a server error, `failure` (if given) receives its SQLSTATE and
  // constraint. `what` names the operation for the error detail, never a value.
  [[nodiscard]] Result<ResultHandle> RunPrepared(std::size_t slot, const char* sql, Params& params,
                                                 std::string_view what,
                                                 SqlFailure* failure = nullptr);

  // Runs `sql` (one or more statements, no parameters) and returns the last statement's result,
  // or the first error.
  [[nodiscard]] Result<ResultHandle> RunSimple(const char* sql, std::string_view what,
                                               Deadline deadline);

  // Runs one statement with parameters, unprepared (for rare statements such as migrations').
  [[nodiscard]] Result<ResultHandle> RunParams(const char* sql, Params& params,
                                               std::string_view what, Deadline deadline);

 private:
  Connection(PGconn* conn, std::chrono::milliseconds statement_timeout,
             std::size_t statement_slots);

  // Flushes what was sent and collects every result until libpq has none left.
  [[nodiscard]] Result<ResultHandle> Collect(std::string_view what, Deadline deadline,
                                             SqlFailure* failure);
  // Waits until the socket has `events` (POLLIN / POLLOUT) or the deadline passes, and returns
  // the poll revents. A timeout marks the connection broken.
  [[nodiscard]] Result<short> WaitSocket(short events, Deadline deadline, std::string_view what);
  // kServiceUnavailable with libpq's connection-level message; marks the connection broken.
  [[nodiscard]] Error ConnectionError(std::string_view what);

  PGconn* conn_;
  std::chrono::milliseconds statement_timeout_;
  std::vector<bool> prepared_;  // prepared_[slot]: statement "s<slot>" exists on this session.
  bool broken_ = false;
  bool lost_ = false;
};

}  // namespace sessiond::store::postgres_internal
