import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type AuthChangeEvent, type Session } from '../src/index.js';
import { USER, fakeBrowser, fakeLocks, fakeServer, sessionExpiringIn } from './fakes.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Two tabs of one origin, each with its own client, sharing one fake server's cookie. */
function twoTabs(
  options: { broadcastChannel?: boolean; storageDelayMs?: number; stored?: Session } = {},
) {
  const server = fakeServer();
  const browser = fakeBrowser(options);
  if (options.stored) {
    server.signedIn = true;
    browser.localStorage.set('sessiond_session_p', JSON.stringify(options.stored));
  }
  const make = () => {
    browser.tab();
    const client = createClient({ baseURL: BASE, projectId: 'p', fetch: server.fetch });
    const events: [AuthChangeEvent, Session | null][] = [];
    client.onAuthStateChange((session, event) => events.push([event, session]));
    return { client, events };
  };
  return { server, browser, a: make(), b: make() };
}

for (const transport of ['BroadcastChannel', 'storage event'] as const) {
  describe(`cross-tab sync via ${transport}`, () => {
    const broadcastChannel = transport === 'BroadcastChannel';

    it('a sign-in in one tab reaches the other', async () => {
      const { a, b } = twoTabs({ broadcastChannel });
      const session = await a.client.signIn.email({ email: USER.email, password: 'correct-horse' });
      await vi.advanceTimersByTimeAsync(0);
      expect(b.client.getSession()).toEqual(session);
      expect(b.events.at(-1)).toEqual(['SIGNED_IN', session]);
    });

    it('a sign-out in one tab fires the other tab’s listener with null', async () => {
      const { a, b } = twoTabs({ broadcastChannel, stored: sessionExpiringIn(600) });
      expect(b.client.getSession()).not.toBeNull();
      await a.client.signOut();
      await vi.advanceTimersByTimeAsync(0);
      expect(b.client.getSession()).toBeNull();
      expect(b.events.at(-1)).toEqual(['SIGNED_OUT', null]);
      expect(b.events.filter(([e]) => e === 'SIGNED_OUT')).toHaveLength(1);
    });

    it('a refresh in one tab gives the other the new token (TOKEN_REFRESHED)', async () => {
      const { a, b } = twoTabs({ broadcastChannel, stored: sessionExpiringIn(600) });
      const refreshed = a.client.refresh(); // no Web Locks here: the lease path, with its timers
      await vi.advanceTimersByTimeAsync(100);
      const token = await refreshed;
      expect(b.client.getSession()?.accessToken).toBe(token);
      expect(b.events.at(-1)?.[0]).toBe('TOKEN_REFRESHED');
    });

    it('a user update in one tab reaches the other (USER_UPDATED)', async () => {
      const { a, b } = twoTabs({ broadcastChannel, stored: sessionExpiringIn(600) });
      await a.client.updateUser({ name: 'Renamed' });
      await vi.advanceTimersByTimeAsync(0);
      expect(b.client.getUser()?.name).toBe('Renamed');
      expect(b.events.at(-1)?.[0]).toBe('USER_UPDATED');
    });

    it('the receiving tab does not echo the change back', async () => {
      const { a, b } = twoTabs({ broadcastChannel, stored: sessionExpiringIn(600) });
      await a.client.signOut();
      await vi.advanceTimersByTimeAsync(10);
      expect(a.events.map(([e]) => e)).toEqual(['INITIAL_SESSION', 'SIGNED_OUT']);
      expect(b.events.map(([e]) => e)).toEqual(['INITIAL_SESSION', 'SIGNED_OUT']);
    });
  });
}

describe('one tab refreshes at a time', () => {
  // With storage shared at once, and as in Chromium, where another tab's localStorage write and
  // the lock grant arrive over separate channels: the second tab may hold the lock while its
  // storage still shows the old token.
  const setups = [
    { name: 'storage shared at once', storageDelayMs: 0, broadcastChannel: true },
    { name: 'the write lands after the lock (BroadcastChannel)', storageDelayMs: 50, broadcastChannel: true },
    { name: 'the write lands after the lock (storage event)', storageDelayMs: 50, broadcastChannel: false },
  ];
  for (const { name, storageDelayMs, broadcastChannel } of setups) {
    it(`two tabs refreshing together make one request; the second takes the first’s token (${name})`, async () => {
      fakeLocks();
      const { server, a, b } = twoTabs({
        broadcastChannel,
        storageDelayMs,
        stored: sessionExpiringIn(30),
      });
      server.latency = 100;
      const fromA = a.client.refresh();
      const fromB = b.client.refresh();
      await vi.advanceTimersByTimeAsync(300);
      expect(await fromB).toBe(await fromA);
      expect(server.calls('/api/auth/token')).toBe(1);
    });
  }

  it('a tab that waited refreshes by itself, a moment later, when the first tab’s refresh failed', async () => {
    fakeLocks();
    const { server, a, b } = twoTabs({ stored: sessionExpiringIn(30) });
    server.latency = 100;
    server.down = true;
    const fromA = a.client.refresh().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    const fromB = b.client.refresh();
    await vi.advanceTimersByTimeAsync(100);
    expect(await fromA).toMatchObject({ code: 'NETWORK_ERROR' });
    server.down = false;
    await vi.advanceTimersByTimeAsync(450);
    expect(server.calls('/api/auth/token')).toBe(1); // B still gives A's write time to land
    await vi.advanceTimersByTimeAsync(200);
    expect(server.calls('/api/auth/token')).toBe(2);
    expect(await fromB).toBe(b.client.getSession()?.accessToken);
  });

  it('the refresh timers of several tabs make one request', async () => {
    fakeLocks();
    const server = fakeServer();
    server.signedIn = true;
    server.latency = 100;
    const browser = fakeBrowser();
    browser.localStorage.set('sessiond_session_p', JSON.stringify(sessionExpiringIn(900)));
    const tabs = [0, 1, 2].map(() => {
      browser.tab();
      return createClient({ baseURL: BASE, projectId: 'p', fetch: server.fetch });
    });
    await vi.advanceTimersByTimeAsync(840_000 + 500);
    expect(server.calls('/api/auth/token')).toBe(1);
    const tokens = new Set(tabs.map((tab) => tab.getSession()?.accessToken));
    expect(tokens.size).toBe(1);
  });
});
