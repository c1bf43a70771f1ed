// libpq, loaded when a PostgreSQL store is first opened rather than when the process starts.
//
// Why: linking libpq makes every sessiond process map it and its dependencies (GnuTLS, Kerberos,
// LDAP, SASL, p11-kit, ...) at start-up: ~3.8 MB of resident memory and a few ms of relocation,
// paid by every SQLite deployment that never speaks to PostgreSQL. So no sessiond target links
// libpq; libpq_loader.cc defines each libpq function the backend calls (PQexec, PQclear, ...) as
// a forwarder that dlopen()s libpq.so.5 on first use. Call sites use libpq's own API unchanged,
// with its own header. No Debian package generates such stubs (Implib.so does, but is not
// packaged), hence the hand-written list of about forty one-line forwarders.
#pragma once

#include "common/error.h"

namespace sessiond::store::postgres_internal {

// Loads libpq.so.5 (the soname of libpq 10 and later; Debian's libpq5) if it is not loaded yet.
// Thread-safe, and cheap after the first call. Fails with kServiceUnavailable, naming the
// package to install, when the library is missing; PostgresStore::Open calls it first, so a
// SQLite-only machine needs no libpq at all.
[[nodiscard]] Result<void> LoadLibpq();

}  // namespace sessiond::store::postgres_internal
