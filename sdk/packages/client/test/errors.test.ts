import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, isSessiondError, SessiondError, type ErrorCode } from '../src/index.js';

const BASE = 'http://auth.test';

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-06-01T12:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function clientAnswering(respond: () => Response | Promise<Response>) {
  const fetch = vi.fn<typeof globalThis.fetch>(async () => respond());
  return createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch });
}

describe('typed errors', () => {
  it('carries the server code, message and status', async () => {
    const client = clientAnswering(
      () =>
        new Response(JSON.stringify({ code: 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL', message: 'User already exists. Use another email.' }), {
          status: 422,
        }),
    );
    const error = await client.signUp.email({ email: 'a@b.co', password: 'x'.repeat(10), name: 'A' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessiondError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'SessiondError',
      code: 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL',
      status: 422,
      message: 'User already exists. Use another email.',
    });
  });

  it('keeps codes a newer server adds', async () => {
    const client = clientAnswering(() => new Response(JSON.stringify({ code: 'BRAND_NEW_CODE', message: 'm' }), { status: 400 }));
    const error = await client.listSessions().catch((e: unknown) => e);
    expect(isSessiondError(error, 'BRAND_NEW_CODE')).toBe(true);
  });

  it('NETWORK_ERROR when there is no answer, with the cause', async () => {
    const cause = new TypeError('Failed to fetch');
    const client = clientAnswering(() => {
      throw cause;
    });
    const error = await client.listSessions().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', status: 0, cause });
  });

  it('TIMEOUT after requestTimeout', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(
      (_url, init) =>
        new Promise((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    );
    const client = createClient({ baseURL: BASE, projectId: 'p', storage: 'memory', fetch, requestTimeout: 2_000 });
    const result = client.listSessions().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await result).toMatchObject({ code: 'TIMEOUT', status: 0 });
  });

  it('INVALID_RESPONSE for a body that is not JSON, or an error without a code', async () => {
    const html = clientAnswering(() => new Response('<html>bad gateway</html>', { status: 502 }));
    expect(await html.listSessions().catch((e: unknown) => e)).toMatchObject({ code: 'INVALID_RESPONSE', status: 502 });
    const bare = clientAnswering(() => new Response('{}', { status: 500 }));
    expect(await bare.listSessions().catch((e: unknown) => e)).toMatchObject({
      code: 'INVALID_RESPONSE',
      status: 500,
      message: 'GET /list-sessions: HTTP 500',
    });
  });

  it('INVALID_RESPONSE when GET /token has no JWT', async () => {
    let call = 0;
    const client = clientAnswering(() =>
      ++call === 1
        ? new Response(JSON.stringify({ token: 't', user: { id: 'u' } }))
        : new Response(JSON.stringify({ token: 42 })),
    );
    const error = await client.signIn.email({ email: 'a@b.co', password: 'p' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_RESPONSE' });
    expect(client.getSession()).toBeNull();
  });

  it('ErrorCode lists the server codes (compile-time check)', () => {
    const codes: ErrorCode[] = ['INVALID_EMAIL_OR_PASSWORD', 'SESSION_EXPIRED', 'UNAUTHORIZED', 'TOO_MANY_REQUESTS'];
    expect(codes).toHaveLength(4);
  });
});
