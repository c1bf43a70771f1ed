import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, isSessiondError, memoryStorage, type SessiondError } from '../src/index.js';
import { USER, fakeServer } from './fakes.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('signIn.email / signUp.email', () => {
  it('signs in with the cookie, then trades it for an access token', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const session = await client.signIn.email({ email: USER.email, password: 'correct-horse', rememberMe: false });

    const [signIn, token] = server.fetch.mock.calls;
    expect(String(signIn![0])).toBe('http://auth.test/api/auth/sign-in/email');
    expect(signIn![1]).toMatchObject({ method: 'POST', credentials: 'include' });
    expect(JSON.parse(String(signIn![1]!.body))).toEqual({
      email: USER.email,
      password: 'correct-horse',
      rememberMe: false,
    });
    expect(String(token![0])).toBe('http://auth.test/api/auth/token');
    expect(token![1]).toMatchObject({ method: 'GET', credentials: 'include' });

    expect(session).toEqual({
      user: USER,
      sessionId: 's1',
      accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      expiresAt: Math.floor(Date.now() / 1000) + 900,
      method: 'email',
    });
    expect(client.getSession()).toEqual(session);
  });

  it('rejects wrong credentials with the server code and stays signed out', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const error = await client.signIn.email({ email: USER.email, password: 'nope' }).catch((e: unknown) => e);
    expect(isSessiondError(error, 'INVALID_EMAIL_OR_PASSWORD')).toBe(true);
    expect((error as SessiondError).status).toBe(401);
    expect((error as SessiondError).message).toBe('Invalid email or password');
    expect(client.getSession()).toBeNull();
  });

  it('signUp creates the user and signs them in', async () => {
    const server = fakeServer();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch: server.fetch });
    const session = await client.signUp.email({ email: 'bob@example.com', password: 'correct-horse', name: 'Bob' });
    expect(session.user.email).toBe('bob@example.com');
    expect(session.user.name).toBe('Bob');
    expect(server.calls('/api/auth/token')).toBe(1);
  });
});

describe('user operations', () => {
  async function signedIn() {
    const server = fakeServer();
    const storage = memoryStorage();
    const client = createClient({ baseURL: BASE, projectId: 'p', storage, fetch: server.fetch });
    await client.signIn.email({ email: USER.email, password: 'correct-horse' });
    return { server, storage, client };
  }

  it('updateUser posts the change and updates the stored snapshot', async () => {
    const { server, storage, client } = await signedIn();
    const user = await client.updateUser({ name: 'Alice B.', image: 'https://img.example/a.png' });
    expect(JSON.parse(String(server.fetch.mock.calls.at(-1)![1]!.body))).toEqual({
      name: 'Alice B.',
      image: 'https://img.example/a.png',
    });
    expect(user).toMatchObject({ name: 'Alice B.', image: 'https://img.example/a.png' });
    expect(client.getUser()).toEqual(user);
    expect(JSON.parse(storage.getItem('sessiond_session_p')!).user.name).toBe('Alice B.');
  });

  it('getUserFromServer reads the database and updates the snapshot when it changed', async () => {
    const { server, client } = await signedIn();
    server.user = { ...USER, name: 'Changed elsewhere' };
    const events: string[] = [];
    client.onAuthStateChange((_s, e) => events.push(e));
    const user = await client.getUserFromServer();
    expect(String(server.fetch.mock.calls.at(-1)![0])).toBe(
      'http://auth.test/api/auth/get-session?disableCookieCache=true',
    );
    expect(user?.name).toBe('Changed elsewhere');
    expect(client.getUser()?.name).toBe('Changed elsewhere');
    expect(events).toEqual(['INITIAL_SESSION', 'USER_UPDATED']);
    await client.getUserFromServer();
    expect(events).toEqual(['INITIAL_SESSION', 'USER_UPDATED']);
  });

  it('getUserFromServer signs out locally when the server has no session', async () => {
    const { server, client } = await signedIn();
    server.signedIn = false;
    expect(await client.getUserFromServer()).toBeNull();
    expect(client.getSession()).toBeNull();
  });

  it('setUser needs a session', () => {
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory' });
    expect(() => client.setUser(USER)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });
});
