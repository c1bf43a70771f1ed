import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, memoryStorage, type AuthChangeEvent, type Session } from '../src/index.js';
import { USER, fakeServer } from './fakes.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

async function signedIn(options: { signInRedirect?: string } = {}) {
  const server = fakeServer();
  const storage = memoryStorage();
  const client = createClient({ baseURL: BASE, projectId: 'p', storage, fetch: server.fetch, ...options });
  await client.signIn.email({ email: USER.email, password: 'correct-horse' });
  const events: [AuthChangeEvent, Session | null][] = [];
  client.onAuthStateChange((session, event) => events.push([event, session]));
  return { server, storage, client, events };
}

describe('signOut()', () => {
  it('clears local state, notifies with null, and ends the server session', async () => {
    const { server, storage, client, events } = await signedIn();
    await client.signOut();
    expect(client.getSession()).toBeNull();
    expect(client.getUser()).toBeNull();
    expect(storage.getItem('sessiond_session_p')).toBeNull();
    expect(events.at(-1)).toEqual(['SIGNED_OUT', null]);
    expect(server.calls('/api/auth/sign-out')).toBe(1);
    expect(server.signedIn).toBe(false);
    const init = server.fetch.mock.calls.at(-1)![1]!;
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('include');
  });

  it('resolves and clears local state when fetch rejects (server unreachable)', async () => {
    const { server, storage, client, events } = await signedIn();
    server.down = true;
    await expect(client.signOut()).resolves.toBeUndefined();
    expect(client.getSession()).toBeNull();
    expect(storage.getItem('sessiond_session_p')).toBeNull();
    expect(events.at(-1)).toEqual(['SIGNED_OUT', null]);
  });

  it('resolves when the server never answers (after requestTimeout)', async () => {
    const { server, client } = await signedIn();
    server.hang = true;
    let settled = false;
    const done = client.signOut().then(() => {
      settled = true;
    });
    expect(client.getSession()).toBeNull(); // local state goes first
    await vi.advanceTimersByTimeAsync(9_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(settled).toBe(true);
  });

  it('resolves when already signed out, and still asks the server', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const events: AuthChangeEvent[] = [];
    client.onAuthStateChange((_s, event) => events.push(event));
    await client.signOut();
    expect(events).toEqual(['INITIAL_SESSION']);
    expect(server.calls('/api/auth/sign-out')).toBe(1);
  });

  it('{ token } revokes that session only; the current handle signs this tab out', async () => {
    const { server, client, events } = await signedIn();
    const sessions = await client.listSessions();
    expect(sessions.map((s) => s.id)).toEqual(['s2', 's1']);

    await client.signOut({ token: 'handle-s2' });
    const revoke = server.fetch.mock.calls.at(-1)!;
    expect(String(revoke[0])).toBe('http://auth.test/api/auth/revoke-session');
    expect(JSON.parse(String(revoke[1]!.body))).toEqual({ token: 'handle-s2' });
    expect(client.getSession()).not.toBeNull();

    await client.signOut({ token: 'handle-s1' });
    expect(client.getSession()).toBeNull();
    expect(events.at(-1)).toEqual(['SIGNED_OUT', null]);
    expect(server.calls('/api/auth/sign-out')).toBe(1);
  });

  it('{ token } rejects with the server error', async () => {
    const { server, client } = await signedIn();
    server.down = true;
    await expect(client.signOut({ token: 'handle-s2' })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(client.getSession()).not.toBeNull();
  });
});

describe('signOutAll() and signOutOthers()', () => {
  it('signOutAll revokes every session and signs out locally', async () => {
    const { server, client, events } = await signedIn();
    await client.signOutAll();
    expect(server.calls('/api/auth/revoke-sessions')).toBe(1);
    expect(client.getSession()).toBeNull();
    expect(events.at(-1)).toEqual(['SIGNED_OUT', null]);
  });

  it('signOutAll signs out locally even when the request fails, and rejects', async () => {
    const { server, client } = await signedIn();
    server.down = true;
    await expect(client.signOutAll()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(client.getSession()).toBeNull();
  });

  it('signOutOthers keeps this session', async () => {
    const { server, client, events } = await signedIn();
    await client.signOutOthers();
    expect(server.calls('/api/auth/revoke-other-sessions')).toBe(1);
    expect(client.getSession()).not.toBeNull();
    expect(events).toHaveLength(1);
  });
});

describe('clearLocalData() and invalidateSession()', () => {
  it('clearLocalData forgets the session without asking the server', async () => {
    const { server, storage, client, events } = await signedIn();
    const requests = server.fetch.mock.calls.length;
    client.clearLocalData();
    expect(client.getSession()).toBeNull();
    expect(storage.getItem('sessiond_session_p')).toBeNull();
    expect(events.at(-1)).toEqual(['SIGNED_OUT', null]);
    expect(server.fetch).toHaveBeenCalledTimes(requests);
    expect(server.signedIn).toBe(true);
  });

  it('invalidateSession signs out, then redirects to signInRedirect', async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { assign });
    const { server, client } = await signedIn({ signInRedirect: '/login' });
    await client.invalidateSession();
    expect(client.getSession()).toBeNull();
    expect(server.calls('/api/auth/sign-out')).toBe(1);
    expect(assign).toHaveBeenCalledWith('/login');
  });

  it('invalidateSession does not navigate without signInRedirect', async () => {
    const assign = vi.fn();
    vi.stubGlobal('location', { assign });
    const { client } = await signedIn();
    await client.invalidateSession();
    expect(assign).not.toHaveBeenCalled();
  });
});
