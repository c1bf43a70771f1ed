import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createClient,
  memoryStorage,
  type AuthChangeEvent,
  type Session,
} from '../src/index.js';
import { USER, fakeServer, sessionExpiringIn } from './fakes.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function recorder() {
  const events: [AuthChangeEvent, Session | null][] = [];
  const listener = vi.fn((session: Session | null, event: AuthChangeEvent) => {
    events.push([event, session]);
  });
  return { events, listener, names: () => events.map(([event]) => event) };
}

describe('onAuthStateChange', () => {
  it('fires at once, synchronously, with the current state (signed out)', () => {
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory' });
    const { listener, events } = recorder();
    client.onAuthStateChange(listener);
    expect(events).toEqual([['INITIAL_SESSION', null]]);
  });

  it('fires at once with a restored session', () => {
    const storage = memoryStorage();
    const saved = sessionExpiringIn(600);
    storage.setItem('sessiond_session_p', JSON.stringify(saved));
    const client = createClient({ baseURL: BASE, projectId: 'p', storage });
    const { listener, events } = recorder();
    client.onAuthStateChange(listener);
    expect(events).toEqual([['INITIAL_SESSION', saved]]);
  });

  it('reports SIGNED_IN, TOKEN_REFRESHED, USER_UPDATED and SIGNED_OUT, in order', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const { listener, events, names } = recorder();
    client.onAuthStateChange(listener);

    const signedIn = await client.signIn.email({ email: USER.email, password: 'correct-horse' });
    expect(events[1]).toEqual(['SIGNED_IN', signedIn]);

    vi.advanceTimersByTime(1000);
    const token = await client.refresh();
    expect(events[2]?.[0]).toBe('TOKEN_REFRESHED');
    expect(events[2]?.[1]?.accessToken).toBe(token);
    expect(token).not.toBe(signedIn.accessToken);

    await client.updateUser({ name: 'Alice B.' });
    expect(events[3]?.[0]).toBe('USER_UPDATED');
    expect(events[3]?.[1]?.user.name).toBe('Alice B.');

    client.setUser({ ...USER, name: 'Alice C.' });
    expect(events[4]?.[1]?.user.name).toBe('Alice C.');

    await client.signOut();
    expect(events[5]).toEqual(['SIGNED_OUT', null]);
    expect(names()).toEqual([
      'INITIAL_SESSION',
      'SIGNED_IN',
      'TOKEN_REFRESHED',
      'USER_UPDATED',
      'USER_UPDATED',
      'SIGNED_OUT',
    ]);
  });

  it('stops after unsubscribe; other listeners keep receiving', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const first = recorder();
    const second = recorder();
    const unsubscribe = client.onAuthStateChange(first.listener);
    client.onAuthStateChange(second.listener);

    unsubscribe();
    await client.signIn.email({ email: USER.email, password: 'correct-horse' });

    expect(first.names()).toEqual(['INITIAL_SESSION']);
    expect(second.names()).toEqual(['INITIAL_SESSION', 'SIGNED_IN']);
    unsubscribe(); // A second call is harmless.
  });

  it('the same function subscribed twice is two subscriptions', () => {
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory' });
    const { listener } = recorder();
    const off1 = client.onAuthStateChange(listener);
    client.onAuthStateChange(listener);
    off1();
    client.setSession(sessionExpiringIn(600));
    expect(listener).toHaveBeenCalledTimes(3); // 2 × INITIAL_SESSION + 1 × SIGNED_IN
  });

  it('a listener that throws is reported and does not stop the others', () => {
    const reported = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory' });
    const boom = new Error('listener bug');
    client.onAuthStateChange((session) => {
      if (session) throw boom;
    });
    const { listener, names } = recorder();
    client.onAuthStateChange(listener);

    client.setSession(sessionExpiringIn(600));

    expect(names()).toEqual(['INITIAL_SESSION', 'SIGNED_IN']);
    expect(reported).toHaveBeenCalledWith(boom);
  });

  it('a listener may call back into the client without deadlock', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const nested: Promise<string>[] = [];
    client.onAuthStateChange((_session, event) => {
      // auth-js#762: an awaited client call inside the callback hung the whole client.
      if (event === 'SIGNED_IN' || event === 'TOKEN_REFRESHED') nested.push(client.refresh());
    });
    await client.signIn.email({ email: USER.email, password: 'correct-horse' });
    const token = await nested[0];
    expect(token).toBe(client.getSession()?.accessToken);
    expect(server.calls('/token')).toBe(2);
  });

  it('setSession picks the event that fits and ignores no-op changes', () => {
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory' });
    const { listener, names } = recorder();
    client.onAuthStateChange(listener);
    const first = sessionExpiringIn(600);
    client.setSession(first);
    client.setSession({ ...first });
    client.setSession({ ...first, accessToken: 'other.jwt.x' });
    client.setSession({ ...first, accessToken: 'other.jwt.x', user: { ...USER, name: 'B' } });
    client.setSession({ ...first, sessionId: 's9' });
    client.setSession(null);
    client.setSession(null);
    expect(names()).toEqual([
      'INITIAL_SESSION',
      'SIGNED_IN',
      'TOKEN_REFRESHED',
      'USER_UPDATED',
      'SIGNED_IN',
      'SIGNED_OUT',
    ]);
  });
});
