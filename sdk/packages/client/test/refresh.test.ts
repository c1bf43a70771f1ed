import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createClient,
  isSessiondError,
  memoryStorage,
  SessiondError,
  type AuthChangeEvent,
} from '../src/index.js';
import { fakeServer, sessionExpiringIn } from './fakes.js';

const BASE = 'http://auth.test';
const now = () => Math.floor(Date.now() / 1000);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A client whose stored session expires in `secondsLeft`, against a signed-in fake server. */
function signedInClient(secondsLeft: number, options: { autoRefresh?: boolean; lifetime?: number } = {}) {
  const server = fakeServer();
  server.signedIn = true;
  server.latency = 50;
  const storage = memoryStorage();
  storage.setItem('sessiond_session_p', JSON.stringify(sessionExpiringIn(secondsLeft, options.lifetime)));
  const client = createClient({
    baseURL: BASE,
    projectId: 'p',
    storage,
    fetch: server.fetch,
    autoRefresh: options.autoRefresh ?? false,
  });
  return { server, storage, client };
}

describe('refresh()', () => {
  it('20 concurrent calls make one request and share its token', async () => {
    const { server, client } = signedInClient(600);
    const calls = Array.from({ length: 20 }, () => client.refresh());
    await vi.advanceTimersByTimeAsync(50);
    const tokens = await Promise.all(calls);

    expect(server.calls('/api/auth/token')).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toBe(client.getSession()?.accessToken);
    expect(client.getSession()?.expiresAt).toBe(now() + 900);
  });

  it('a call after the previous one settled makes a new request', async () => {
    const { server, client } = signedInClient(600);
    const first = client.refresh();
    await vi.advanceTimersByTimeAsync(50);
    await first;
    const second = client.refresh();
    await vi.advanceTimersByTimeAsync(50);
    expect(await second).not.toBe(await first);
    expect(server.calls('/api/auth/token')).toBe(2);
  });

  it('throws SESSION_EXPIRED on 401 and signs the tab out', async () => {
    const { server, storage, client } = signedInClient(600);
    server.signedIn = false;
    const events: [AuthChangeEvent, unknown][] = [];
    client.onAuthStateChange((session, event) => events.push([event, session]));

    const result = client.refresh().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50);
    const error = await result;

    expect(error).toBeInstanceOf(SessiondError);
    expect(isSessiondError(error, 'SESSION_EXPIRED')).toBe(true);
    expect((error as SessiondError).status).toBe(401);
    expect(client.getSession()).toBeNull();
    expect(storage.getItem('sessiond_session_p')).toBeNull();
    expect(events.at(-1)).toEqual(['SIGNED_OUT', null]);
  });

  it('throws SESSION_EXPIRED without a request when signed out', async () => {
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: fakeServer().fetch });
    await expect(client.refresh()).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
  });

  it('keeps the session on a network failure', async () => {
    const { server, client } = signedInClient(600);
    server.down = true;
    const result = client.refresh().catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50);
    expect(await result).toMatchObject({ code: 'NETWORK_ERROR', status: 0 });
    expect(client.getSession()).not.toBeNull();
  });

  it('drops its result when the user signs out while it runs', async () => {
    const { client } = signedInClient(600);
    const result = client.refresh().catch((error: unknown) => error);
    const signedOut = client.signOut();
    expect(client.getSession()).toBeNull(); // at once, before the server answers
    await vi.advanceTimersByTimeAsync(100);
    await signedOut;
    expect(await result).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(client.getSession()).toBeNull();
  });
});

describe('client.fetch', () => {
  it('refreshes first when the token has less than 60 s left, then sends the new bearer', async () => {
    const { server, client } = signedInClient(59);
    const old = client.getSession()!.accessToken;
    const response = client.fetch('https://api.example/me', { headers: { accept: 'text/plain' } });
    await vi.advanceTimersByTimeAsync(100);
    await response;

    const [tokenCall, apiCall] = server.fetch.mock.calls;
    expect(String(tokenCall![0])).toBe('http://auth.test/api/auth/token');
    expect(String(apiCall![0])).toBe('https://api.example/me');
    const headers = apiCall![1]!.headers as Headers;
    expect(headers.get('authorization')).toBe(`Bearer ${client.getSession()!.accessToken}`);
    expect(headers.get('authorization')).not.toBe(`Bearer ${old}`);
    expect(headers.get('accept')).toBe('text/plain');
  });

  it('does not refresh with more than 60 s left', async () => {
    const { server, client } = signedInClient(61);
    const response = client.fetch('https://api.example/me');
    await vi.advanceTimersByTimeAsync(50);
    await response;
    expect(server.calls('/api/auth/token')).toBe(0);
    const headers = server.fetch.mock.calls[0]![1]!.headers as Headers;
    expect(headers.get('authorization')).toBe(`Bearer ${client.getSession()!.accessToken}`);
  });

  it('sends no Authorization header when signed out', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    await client.fetch('https://api.example/public');
    expect((server.fetch.mock.calls[0]![1]!.headers as Headers).has('authorization')).toBe(false);
  });

  it('rejects with SESSION_EXPIRED, and signs out, when the server session is gone', async () => {
    const { server, client } = signedInClient(30);
    server.signedIn = false;
    const result = client.fetch('https://api.example/me').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50);
    expect(await result).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(client.getSession()).toBeNull();
    expect(server.fetch).toHaveBeenCalledTimes(1); // the API was not called
  });

  it('uses the still-valid token when the refresh fails for a network reason', async () => {
    const { server, client } = signedInClient(30);
    const token = client.getSession()!.accessToken;
    server.down = true;
    const result = client.fetch('https://api.example/me').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100);
    await result;
    const apiCall = server.fetch.mock.calls.at(-1)!;
    expect(String(apiCall[0])).toBe('https://api.example/me');
    expect((apiCall[1]!.headers as Headers).get('authorization')).toBe(`Bearer ${token}`);
  });

  it('rejects when the refresh fails and the token has already expired', async () => {
    const { server, client } = signedInClient(-5);
    server.down = true;
    const result = client.fetch('https://api.example/me').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50);
    expect(await result).toMatchObject({ code: 'NETWORK_ERROR' });
  });
});

describe('the refresh timer', () => {
  it('refreshes 60 s before expiry, then re-arms for the new token', async () => {
    const { server, client } = signedInClient(900, { autoRefresh: true });
    await vi.advanceTimersByTimeAsync(839_000);
    expect(server.calls('/api/auth/token')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000 + 50);
    expect(server.calls('/api/auth/token')).toBe(1);
    expect(client.getSession()!.expiresAt).toBe(now() + 900);
    await vi.advanceTimersByTimeAsync(840_000 + 50);
    expect(server.calls('/api/auth/token')).toBe(2);
  });

  it('refreshes a short-lived token when half its lifetime is gone', async () => {
    const { server, client } = signedInClient(10, { autoRefresh: true, lifetime: 10 });
    const before = client.getSession()!.expiresAt;
    await vi.advanceTimersByTimeAsync(4_900);
    expect(server.calls('/api/auth/token')).toBe(0);
    await vi.advanceTimersByTimeAsync(100 + 50);
    expect(server.calls('/api/auth/token')).toBe(1);
    expect(client.getSession()!.expiresAt).toBeGreaterThan(before);
    expect(Date.now() / 1000).toBeLessThan(before);
  });

  it('refreshes at once when the restored token has already expired', async () => {
    const { server } = signedInClient(-100, { autoRefresh: true });
    await vi.advanceTimersByTimeAsync(50);
    expect(server.calls('/api/auth/token')).toBe(1);
  });

  it('retries after a network failure, and stops after SESSION_EXPIRED', async () => {
    const { server, client } = signedInClient(0, { autoRefresh: true });
    server.down = true;
    await vi.advanceTimersByTimeAsync(50);
    expect(server.calls('/api/auth/token')).toBe(1);
    server.down = false;
    server.signedIn = false;
    await vi.advanceTimersByTimeAsync(10_000 + 50);
    expect(server.calls('/api/auth/token')).toBe(2);
    expect(client.getSession()).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.calls('/api/auth/token')).toBe(2);
  });

  it('is not armed with autoRefresh: false', async () => {
    const { server } = signedInClient(0, { autoRefresh: false });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.fetch).not.toHaveBeenCalled();
  });
});
