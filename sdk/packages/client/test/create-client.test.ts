import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, memoryStorage } from '../src/index.js';
import { USER, fakeBrowser, fakeServer, sessionExpiringIn } from './fakes.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createClient restores the stored session synchronously', () => {
  it('getSession() is right immediately, with no request', () => {
    const server = fakeServer();
    const storage = memoryStorage();
    const saved = sessionExpiringIn(600);
    storage.setItem('sessiond_session_p1', JSON.stringify(saved));

    const client = createClient({ baseURL: BASE, projectId: 'p1', storage, fetch: server.fetch });

    expect(client.getSession()).toEqual(saved);
    expect(client.getUser()).toEqual(USER);
    expect(server.fetch).not.toHaveBeenCalled();
  });

  it('uses localStorage under sessiond_session_<projectId> by default in a browser', () => {
    const browser = fakeBrowser();
    browser.tab();
    const saved = sessionExpiringIn(600);
    browser.localStorage.set('sessiond_session_shop', JSON.stringify(saved));

    const client = createClient({ baseURL: BASE, projectId: 'shop', fetch: fakeServer().fetch });

    expect(client.getSession()).toEqual(saved);
  });

  it('reads sessionStorage when asked, and not localStorage', () => {
    const browser = fakeBrowser();
    const win = browser.tab();
    browser.localStorage.set('sessiond_session_p1', JSON.stringify(sessionExpiringIn(600)));
    const client = createClient({ baseURL: BASE, projectId: 'p1', storage: 'sessionStorage' });
    expect(client.getSession()).toBeNull();

    const saved = sessionExpiringIn(300);
    win.sessionStorage.setItem('sessiond_session_p2', JSON.stringify(saved));
    const second = createClient({ baseURL: BASE, projectId: 'p2', storage: 'sessionStorage' });
    expect(second.getSession()).toEqual(saved);
  });

  it('falls back to memory when web storage throws (sandboxed frame)', () => {
    vi.stubGlobal('BroadcastChannel', undefined);
    vi.stubGlobal('window', {
      get localStorage(): Storage {
        throw new DOMException('denied', 'SecurityError');
      },
      addEventListener: () => undefined,
    });
    const client = createClient({ baseURL: BASE, projectId: 'p1' });
    expect(client.getSession()).toBeNull();
    client.setSession(sessionExpiringIn(600));
    expect(client.getSession()?.user.id).toBe('u1');
  });

  it('uses memory storage on the server (no window) and touches no browser API', () => {
    expect(typeof window).toBe('undefined');
    const client = createClient({ baseURL: BASE, projectId: 'p1' });
    expect(client.getSession()).toBeNull();
  });

  it('treats malformed stored data as signed out', () => {
    for (const junk of ['{', '"text"', 'null', '{"user":{}}', JSON.stringify({ ...sessionExpiringIn(9), expiresAt: 'soon' })]) {
      const storage = memoryStorage();
      storage.setItem('sessiond_session_p1', junk);
      expect(createClient({ baseURL: BASE, projectId: 'p1', storage }).getSession()).toBeNull();
    }
  });

  it('accepts a custom adapter and writes only the access token and user snapshot', async () => {
    const server = fakeServer();
    const writes = new Map<string, string>();
    const adapter = {
      getItem: (key: string) => writes.get(key) ?? null,
      setItem: (key: string, value: string) => void writes.set(key, value),
      removeItem: (key: string) => void writes.delete(key),
    };
    const client = createClient({ baseURL: `${BASE}/`, projectId: 'p1', storage: adapter, fetch: server.fetch });

    await client.signIn.email({ email: USER.email, password: 'correct-horse' });

    const stored = JSON.parse(writes.get('sessiond_session_p1')!) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['accessToken', 'expiresAt', 'method', 'sessionId', 'user']);
    expect(writes.get('sessiond_session_p1')).not.toContain('RAW-SESSION-CREDENTIAL');
    expect(stored.expiresAt).toBe(Math.floor(Date.now() / 1000) + 900);
    expect(stored.sessionId).toBe('s1');
    expect(stored.method).toBe('email');
    // A trailing slash in baseURL is tolerated.
    expect(String(server.fetch.mock.calls[0]![0])).toBe('http://auth.test/api/auth/sign-in/email');
  });
});
