/**
 * Test doubles: a fake sessiond (as a fetch function), fake browser tabs (window, web storage,
 * BroadcastChannel, storage events) and fake Web Locks. All synchronous or timer-driven, so
 * tests run under vitest's fake timers with exact times.
 */
import { vi } from 'vitest';
import type { Session, StorageAdapter, User } from '../src/index.js';

export const USER: User = {
  id: 'u1',
  email: 'alice@example.com',
  name: 'Alice',
  image: null,
  emailVerified: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

const b64url = (value: unknown) =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned JWT with the given claims (the client reads, never verifies, them). */
export function jwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'EdDSA', typ: 'JWT' })}.${b64url(claims)}.c2ln`;
}

/** A stored session whose token was issued `lifetime` seconds long, `age` seconds ago. */
export function sessionExpiringIn(secondsLeft: number, lifetime = 900): Session {
  const now = Math.floor(Date.now() / 1000);
  const exp = now + secondsLeft;
  return {
    user: USER,
    sessionId: 's1',
    accessToken: jwt({ sub: USER.id, sid: 's1', iat: exp - lifetime, exp, jti: 'old' }),
    expiresAt: exp,
    method: 'email',
  };
}

export interface FakeServer {
  fetch: ReturnType<typeof vi.fn<typeof fetch>>;
  /** Whether the cookie names a live session. */
  signedIn: boolean;
  /** Access-token lifetime, seconds. */
  lifetime: number;
  /** Milliseconds each answer takes (a timer, so fake timers control it). */
  latency: number;
  /** Make every request fail as a network error. */
  down: boolean;
  /** Never answer (until aborted). */
  hang: boolean;
  user: User;
  tokensIssued: number;
  calls(path: string): number;
}

/** A fake sessiond speaking the routes the client uses, at http://auth.test. */
export function fakeServer(): FakeServer {
  const server: FakeServer = {
    signedIn: false,
    lifetime: 900,
    latency: 0,
    down: false,
    hang: false,
    user: USER,
    tokensIssued: 0,
    calls: (path) =>
      server.fetch.mock.calls.filter(([url]) => String(url).split('?')[0]!.endsWith(path)).length,
    fetch: vi.fn<typeof fetch>(async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      if (server.hang) {
        return new Promise<Response>((_, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        });
      }
      if (server.latency) await new Promise((resolve) => setTimeout(resolve, server.latency));
      if (server.down) throw new TypeError('Failed to fetch');
      return answer(server, method, url, init);
    }),
  };
  return server;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const unauthorized = () => json(401, { code: 'UNAUTHORIZED', message: 'Unauthorized' });

function answer(server: FakeServer, method: string, url: URL, init?: RequestInit): Response {
  const route = `${method} ${url.pathname}`;
  const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {};
  switch (route) {
    case 'POST /api/auth/sign-in/email':
      if (body.password !== 'correct-horse') {
        return json(401, { code: 'INVALID_EMAIL_OR_PASSWORD', message: 'Invalid email or password' });
      }
      server.signedIn = true;
      return json(200, { redirect: false, token: 'RAW-SESSION-CREDENTIAL', user: server.user });
    case 'POST /api/auth/sign-up/email':
      server.signedIn = true;
      server.user = { ...server.user, email: String(body.email), name: String(body.name) };
      return json(200, { token: 'RAW-SESSION-CREDENTIAL', user: server.user });
    case 'GET /api/auth/token': {
      if (!server.signedIn) return unauthorized();
      const iat = Math.floor(Date.now() / 1000);
      const exp = iat + server.lifetime;
      server.tokensIssued++;
      const token = jwt({ sub: server.user.id, sid: 's1', iat, exp, jti: `t${server.tokensIssued}` });
      return json(200, { token, expiresAt: exp });
    }
    case 'GET /api/auth/get-session':
      return json(
        200,
        server.signedIn
          ? {
              session: { id: 's1', expiresAt: '2030-01-01T00:00:00.000Z', token: 'handle-s1' },
              user: server.user,
            }
          : null,
      );
    case 'GET /api/auth/list-sessions':
      if (!server.signedIn) return unauthorized();
      return json(200, [
        { id: 's2', token: 'handle-s2', userId: 'u1', ipAddress: '10.0.0.2', userAgent: 'Firefox' },
        { id: 's1', token: 'handle-s1', userId: 'u1', ipAddress: '127.0.0.1', userAgent: 'Chrome', current: true },
      ]);
    case 'POST /api/auth/sign-out':
      server.signedIn = false;
      return json(200, { success: true });
    case 'POST /api/auth/revoke-session':
      if (body.token === 'handle-s1') server.signedIn = false;
      return json(200, { status: true });
    case 'POST /api/auth/revoke-sessions':
      server.signedIn = false;
      return json(200, { status: true });
    case 'POST /api/auth/revoke-other-sessions':
      return json(200, { status: true });
    case 'POST /api/auth/update-user':
      server.user = { ...server.user, ...body };
      return json(200, { status: true });
    default:
      return json(404, { code: 'NOT_FOUND', message: 'Not found' });
  }
}

/**
 * A web Storage over a tab's view of the items; `onChange` passes each change on to the
 * other tabs (their views and `storage` events).
 */
class FakeWebStorage implements StorageAdapter {
  constructor(
    readonly items: Map<string, string>,
    private readonly onChange: (key: string, newValue: string | null) => void,
  ) {}
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    const old = this.getItem(key);
    this.items.set(key, value);
    if (old !== value) this.onChange(key, value);
  }
  removeItem(key: string) {
    const old = this.getItem(key);
    this.items.delete(key);
    if (old !== null) this.onChange(key, null);
  }
}

type Handler = (event: { data?: unknown; key?: string | null; newValue?: string | null }) => void;

/**
 * A browser with tabs of one origin: shared localStorage, per-tab sessionStorage, a
 * BroadcastChannel that delivers (asynchronously, as browsers do) to the other instances of
 * the same name, and storage events. `tab()` stubs the globals as seen by a new tab; create
 * that tab's client right after it.
 *
 * With `storageDelayMs`, each tab reads its own copy of localStorage and another tab's write
 * reaches it that many milliseconds later, as in Chromium, where every renderer process
 * caches the origin's localStorage and learns of other tabs' writes by message.
 * `localStorage` is then the browser's master copy, which writes also reach after the delay.
 */
export function fakeBrowser(options: { broadcastChannel?: boolean; storageDelayMs?: number } = {}) {
  const local = new Map<string, string>();
  const delay = options.storageDelayMs ?? 0;
  const windows: {
    listeners: Map<string, Set<Handler>>;
    id: number;
    items: Map<string, string>;
  }[] = [];
  const channels = new Set<{ name: string; onmessage: Handler | null; closed: boolean }>();
  let nextId = 0;

  class FakeBroadcastChannel {
    onmessage: Handler | null = null;
    closed = false;
    constructor(readonly name: string) {
      channels.add(this);
    }
    postMessage(data: unknown) {
      for (const other of channels) {
        if (other !== this && other.name === this.name && !other.closed) {
          setTimeout(() => other.onmessage?.({ data }), 0);
        }
      }
    }
    close() {
      this.closed = true;
    }
  }

  return {
    localStorage: local,
    tab() {
      const id = nextId++;
      const items = delay ? new Map(local) : local;
      const win = { id, listeners: new Map<string, Set<Handler>>(), items };
      windows.push(win);
      const fire = (key: string, newValue: string | null) => {
        const apply = (view: Map<string, string>) => {
          if (newValue === null) view.delete(key);
          else view.set(key, newValue);
        };
        if (delay) setTimeout(() => apply(local), delay);
        for (const other of windows) {
          if (other === win) continue;
          setTimeout(() => {
            if (delay) apply(other.items);
            for (const handler of other.listeners.get('storage') ?? []) handler({ key, newValue });
          }, delay);
        }
      };
      const fakeWindow = {
        localStorage: new FakeWebStorage(items, fire),
        sessionStorage: new FakeWebStorage(new Map(), () => undefined),
        addEventListener: (type: string, handler: Handler) => {
          if (!win.listeners.has(type)) win.listeners.set(type, new Set());
          win.listeners.get(type)!.add(handler);
        },
      };
      vi.stubGlobal('window', fakeWindow);
      vi.stubGlobal(
        'BroadcastChannel',
        options.broadcastChannel === false ? undefined : FakeBroadcastChannel,
      );
      return fakeWindow;
    },
  };
}

/**
 * Fake Web Locks (navigator.locks): exclusive locks granted in request order, honouring
 * `signal` while waiting. `stuck` names locks held by a holder that never releases.
 */
export function fakeLocks() {
  const queues = new Map<string, (() => void)[]>();
  const held = new Set<string>();
  const locks = {
    requests: 0,
    stuck: new Set<string>(),
    request<T>(
      name: string,
      opts: { signal?: AbortSignal; ifAvailable?: boolean },
      work: (lock: { name: string } | null) => Promise<T>,
    ): Promise<T> {
      locks.requests++;
      if (opts.ifAvailable && (held.has(name) || locks.stuck.has(name))) return work(null);
      return new Promise<T>((resolve, reject) => {
        const run = () => {
          held.add(name);
          work({ name })
            .then(resolve, reject)
            .finally(() => {
              held.delete(name);
              queues.get(name)?.shift()?.();
            });
        };
        if (!held.has(name) && !locks.stuck.has(name)) {
          run();
          return;
        }
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        queue.push(run);
        opts.signal?.addEventListener('abort', () => {
          queue.splice(queue.indexOf(run), 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
        });
      });
    },
  };
  vi.stubGlobal('navigator', { locks });
  return locks;
}
