/**
 * The refresh lock never deadlocks: a holder that never lets go delays a refresh by at most
 * `lockTimeout`, with Web Locks and with the localStorage lease alike.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/index.js';
import { fakeBrowser, fakeLocks, fakeServer, sessionExpiringIn } from './fakes.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function tabWithSession() {
  const server = fakeServer();
  server.signedIn = true;
  const browser = fakeBrowser();
  browser.localStorage.set('sessiond_session_p', JSON.stringify(sessionExpiringIn(600)));
  browser.tab();
  const client = createClient({
    baseURL: BASE,
    projectId: 'p',
    fetch: server.fetch,
    lockTimeout: 3_000,
    autoRefresh: false,
  });
  return { server, browser, client };
}

describe('Web Locks', () => {
  it('refreshes under the lock named after the storage key', async () => {
    const locks = fakeLocks();
    const { server, client } = tabWithSession();
    await client.refresh();
    expect(locks.requests).toBe(1);
    expect(server.calls('/api/auth/token')).toBe(1);
  });

  it('a holder that never releases: times out after lockTimeout and refreshes anyway', async () => {
    const locks = fakeLocks();
    locks.stuck.add('sessiond_session_p');
    const { server, client } = tabWithSession();
    let token: string | undefined;
    const done = client.refresh().then((t) => {
      token = t;
    });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(server.calls('/api/auth/token')).toBe(0);
    expect(token).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(server.calls('/api/auth/token')).toBe(1);
    expect(token).toBe(client.getSession()?.accessToken);
  });

  it('a failure of the work under the lock is reported as itself', async () => {
    fakeLocks();
    const { server, client } = tabWithSession();
    server.signedIn = false;
    await expect(client.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(server.calls('/api/auth/token')).toBe(1); // not retried without the lock
  });

  it('Web Locks refusing the request (e.g. opaque origin) does not block the refresh', async () => {
    vi.stubGlobal('navigator', {
      locks: { request: () => Promise.reject(new DOMException('denied', 'SecurityError')) },
    });
    const { server, client } = tabWithSession();
    await client.refresh();
    expect(server.calls('/api/auth/token')).toBe(1);
  });
});

describe('localStorage lease (no Web Locks)', () => {
  it('takes a free lease, refreshes, and releases it', async () => {
    const { server, browser, client } = tabWithSession();
    const done = client.refresh();
    await vi.advanceTimersByTimeAsync(30);
    await done;
    expect(server.calls('/api/auth/token')).toBe(1);
    expect(browser.localStorage.has('sessiond_session_p_lock')).toBe(false);
  });

  it('a lease whose owner never releases: waits lockTimeout, then refreshes anyway', async () => {
    const { server, browser, client } = tabWithSession();
    browser.localStorage.set('sessiond_session_p_lock', `deadtab ${Date.now() + 60_000}`);
    const done = client.refresh();
    await vi.advanceTimersByTimeAsync(2_900);
    expect(server.calls('/api/auth/token')).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    await done;
    expect(server.calls('/api/auth/token')).toBe(1);
  });

  it('an expired lease is taken over at once', async () => {
    const { server, browser, client } = tabWithSession();
    browser.localStorage.set('sessiond_session_p_lock', `deadtab ${Date.now() - 1}`);
    const done = client.refresh();
    await vi.advanceTimersByTimeAsync(30);
    await done;
    expect(server.calls('/api/auth/token')).toBe(1);
  });

  it('the second of two tabs waits for the first and takes its token', async () => {
    const server = fakeServer();
    server.signedIn = true;
    server.latency = 100;
    const browser = fakeBrowser();
    browser.localStorage.set('sessiond_session_p', JSON.stringify(sessionExpiringIn(30)));
    browser.tab();
    const a = createClient({ baseURL: BASE, projectId: 'p', fetch: server.fetch, autoRefresh: false });
    browser.tab();
    const b = createClient({ baseURL: BASE, projectId: 'p', fetch: server.fetch, autoRefresh: false });
    const fromA = a.refresh();
    await vi.advanceTimersByTimeAsync(10);
    const fromB = b.refresh();
    await vi.advanceTimersByTimeAsync(500);
    expect(await fromB).toBe(await fromA);
    expect(server.calls('/api/auth/token')).toBe(1);
  });
});
