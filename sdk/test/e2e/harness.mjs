// End-to-end harness: the real sessiond binary on a free port, a static server for the pages
// (the example app's build and a bare page with the client), and Debian's chromium driven by
// playwright-core. Nothing here sleeps for a fixed time: every wait polls a condition.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const SDK = fileURLToPath(new URL('../../', import.meta.url));
export const REPO = resolve(SDK, '..');
export const OUTPUT = join(SDK, 'test/e2e/output');
const EXAMPLE_DIST = join(REPO, 'examples/web/dist');
const CLIENT_DIST = join(SDK, 'packages/client/dist');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** SESSIOND_BIN, else the newest of the release and dev builds. */
export function serverBinary() {
  if (process.env.SESSIOND_BIN) return process.env.SESSIOND_BIN;
  const candidates = ['build/release/sessiond', 'build/dev/sessiond']
    .map((path) => join(REPO, path))
    .filter((path) => existsSync(path));
  if (candidates.length === 0) {
    throw new Error('no sessiond binary: build it (cmake --preset release && cmake --build --preset release --target sessiond) or set SESSIOND_BIN');
  }
  return candidates.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

/** Polls `check` every 20 ms until it returns a truthy value or `ms` pass. */
export async function waitFor(check, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Starts sessiond on a free port with fast test hashing, trusting `appOrigin`. Resolves once
 * /healthz answers. `settings` are extra `--set key=value` pairs. Rejects (with the server's
 * stderr) if it exits first, e.g. on an unknown configuration key.
 */
export async function startServer({ appOrigin, settings = {} } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sessiond-e2e-'));
  const args = ['serve', '--port', '0', '--data-dir', dataDir];
  const all = {
    'password.argon2MemoryKib': '64',
    'password.argon2Iterations': '1',
    ...(appOrigin ? { trustedOrigins: appOrigin } : {}),
    ...settings,
  };
  for (const [key, value] of Object.entries(all)) args.push('--set', `${key}=${value}`);
  const child = spawn(serverBinary(), args, {
    env: {
      ...process.env,
      SESSIOND_SECRET: 'e2e-secret-0123456789-0123456789-0123456789',
      SESSIOND_RATE_LIMIT_ENABLED: 'false',
      SESSIOND_INSECURE_FAST_HASH_FOR_TESTS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exited = null;
  child.on('exit', (code) => (exited = code ?? -1));
  const url = await waitFor(
    () => {
      if (exited !== null) throw new Error(`sessiond exited with ${exited}: ${stderr.trim()}`);
      return /sessiond listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    },
    10_000,
    'sessiond to print its address',
  );
  await waitFor(
    () => fetch(`${url}/healthz`).then((r) => r.ok, () => false),
    10_000,
    'GET /healthz',
  );
  return {
    url,
    stderr: () => stderr,
    /** SIGTERM, then resolves once the process has exited. */
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        await waitFor(() => exited !== null, 15_000, 'sessiond to exit');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What the running server offers, probed without side effects. */
export async function probeServer(url, appOrigin) {
  const status = (path, init) => fetch(url + path, init).then((r) => r.status);
  const preflight = await fetch(`${url}/api/auth/sign-in/email`, {
    method: 'OPTIONS',
    headers: {
      origin: appOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  return {
    tokenRoute: (await status('/api/auth/token')) !== 404,
    listSessions: (await status('/api/auth/list-sessions')) !== 404,
    revokeSession: (await status('/api/auth/revoke-session', { method: 'POST' })) !== 404,
    cors: preflight.headers.get('access-control-allow-origin') === appOrigin,
  };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** A page with the bare client (from packages/client/dist) on `window.client`. */
const CLIENT_PAGE = `<!doctype html><meta charset="utf-8"><title>client e2e</title>
<script type="module">
  import * as sd from '/sdk/client/index.js';
  const q = new URLSearchParams(location.search);
  window.sd = sd;
  window.events = [];
  window.client = sd.createClient({
    baseURL: q.get('server'),
    projectId: q.get('project') ?? 'e2e',
    ...(q.has('lockTimeout') ? { lockTimeout: Number(q.get('lockTimeout')) } : {}),
  });
  window.client.onAuthStateChange((session, event) =>
    window.events.push({ event, session, at: Date.now() }));
  window.ready = true;
</script>`;

/**
 * Serves the example app's build at /, the client page at /client.html and the client's
 * dist at /sdk/client/. The pages talk to sessiond cross-origin, as a deployed app would.
 */
export async function startStatic() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/client.html') {
      res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
      res.end(CLIENT_PAGE);
      return;
    }
    const [root, rest] = url.pathname.startsWith('/sdk/client/')
      ? [CLIENT_DIST, url.pathname.slice('/sdk/client/'.length)]
      : [EXAMPLE_DIST, url.pathname === '/' ? 'index.html' : url.pathname.slice(1)];
    const file = normalize(join(root, rest));
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

/**
 * One test environment: static pages + sessiond (trusting the pages' origin, so CORS and the
 * CSRF check let them in) + chromium with a fresh user-data-dir.
 */
export async function setup({ settings } = {}) {
  const pages = await startStatic();
  const server = await startServer({ appOrigin: pages.origin, settings });
  const features = await probeServer(server.url, pages.origin);
  const profile = mkdtempSync(join(tmpdir(), 'sessiond-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 760 },
  });
  const env = {
    pages,
    server,
    features,
    context,
    /** The pages' baseURL: sessiond itself, on another origin of the same site. */
    apiBase: server.url,
    /** A new tab on the bare-client page, ready to use. */
    async clientTab(project = 'e2e', extra = '') {
      const page = await context.newPage();
      await page.goto(
        `${pages.origin}/client.html?server=${encodeURIComponent(env.apiBase)}&project=${project}${extra}`,
      );
      await page.waitForFunction(() => window.ready === true);
      return page;
    },
    /** Requests the browser sent to `path` (a URL path), from now on. */
    countRequests(path) {
      const seen = [];
      context.on('request', (request) => {
        if (new URL(request.url()).pathname === path) seen.push(request);
      });
      return seen;
    },
    /**
     * The order in which requests to `path` started and finished, from now on:
     * ['start', n] / ['end', n] entries, n numbering the requests.
     */
    trackRequests(path) {
      const log = [];
      const ids = new Map();
      const mine = (request) => new URL(request.url()).pathname === path;
      context.on('request', (request) => {
        if (!mine(request)) return;
        ids.set(request, ids.size + 1);
        log.push(['start', ids.get(request)]);
      });
      const end = (request) => {
        if (mine(request)) log.push(['end', ids.get(request)]);
      };
      context.on('requestfinished', end);
      context.on('requestfailed', end);
      return log;
    },
    async teardown() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      await server.stop();
      await pages.close();
    },
  };
  return env;
}

/**
 * Skips `t` (or fails it under SESSIOND_E2E_STRICT=1) when the server lacks a feature the
 * scenario needs; returns true when the test should stop.
 */
export function needs(t, available, what) {
  if (available) return false;
  if (process.env.SESSIOND_E2E_STRICT === '1') throw new Error(`server lacks ${what}`);
  t.skip(`awaits server: ${what}`);
  return true;
}

let counter = 0;
/** A fresh, unique test user. */
export function newUser(name = 'Alice Example') {
  counter += 1;
  return {
    email: `user${Date.now().toString(36)}${counter}@example.com`,
    password: 'correct-horse-battery',
    name,
  };
}

/** Signs a user in from Node (not the browser), returning the session cookie. */
export async function signInFromNode(serverUrl, user, userAgent) {
  const response = await fetch(`${serverUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  return response.headers.get('set-cookie').split(';')[0];
}
