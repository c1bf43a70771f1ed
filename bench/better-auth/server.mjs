// A stock Better Auth server: the comparison point for bench/run.sh.
//
// Better Auth's own defaults everywhere except what the benchmark needs to be able to run:
//   * emailAndPassword enabled (the wire protocol sessiond speaks);
//   * the bearer and jwt plugins, for the bearer and token scenarios. The jwt plugin's
//     after-hook that signs a JWT on *every* get-session response is switched off
//     (disableSettingJwtHeader), so get-session costs what it costs without the plugin;
//   * rate limiting off (a load generator would otherwise measure 429s);
//   * a fixed secret and baseURL, and the cookie cache on or off by environment.
//
// Environment:
//   PORT            port to listen on (127.0.0.1 only)                  [3100]
//   BA_DB           path of the SQLite file (created and migrated here) [required, unless:]
//   BA_DATABASE_URL postgresql://... : PostgreSQL instead, through the `pg` package's Pool with
//                   its defaults (Better Auth's Kysely adapter takes a Pool as is); the tables
//                   are created by the same migration, in the URL's database
//   BA_COOKIE_CACHE "1" → session.cookieCache {enabled: true, maxAge: 300}
//
// Prints "ready <port>" on stdout once listening.
import http from "node:http";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { toNodeHandler } from "better-auth/node";
import { getMigrations } from "better-auth/db/migration";
import { bearer, jwt } from "better-auth/plugins";

const port = Number(process.env.PORT || 3100);
const dbPath = process.env.BA_DB;
const dbUrl = process.env.BA_DATABASE_URL;
if (!dbPath && !dbUrl) {
  console.error("BA_DB (path of the SQLite file) or BA_DATABASE_URL (postgresql://...) is required");
  process.exit(2);
}
// pg is loaded only for PostgreSQL, so the SQLite runs' start-up time is what it was.
let database;
if (dbUrl) {
  const { default: pg } = await import("pg");
  database = new pg.Pool({ connectionString: dbUrl });
} else {
  database = new Database(dbPath);
}
const cookieCache = process.env.BA_COOKIE_CACHE === "1";
const baseURL = `http://127.0.0.1:${port}`;

const options = {
  baseURL,
  secret: "sessiond-bench-fixed-secret-0123456789abcdef",
  database,
  emailAndPassword: { enabled: true },
  session: cookieCache ? { cookieCache: { enabled: true, maxAge: 300 } } : undefined,
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  plugins: [bearer(), jwt({ disableSettingJwtHeader: true })],
};

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const handler = toNodeHandler(auth);

// Readiness is Better Auth's own GET /api/auth/ok (run.sh times start → its first 200).
const server = http.createServer(handler);
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  console.log(`ready ${port}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
