/** Trades the session cookie for a short-lived access token. */
import { SessiondError, isSessiondError } from '../errors.js';
import type { Context } from './context.js';
import { request } from './http.js';
import { jwtClaims } from './jwt.js';

export interface Grant {
  accessToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  sessionId: string;
}

/** The error every "the server no longer knows this session" path throws. */
export function sessionExpired(cause?: unknown): SessiondError {
  return new SessiondError('SESSION_EXPIRED', 'The session has ended; sign in again', 401, cause);
}

/**
 * `GET /api/auth/token` (with the cookie) → {token, expiresAt}. A 401 (no session behind the
 * cookie) becomes SESSION_EXPIRED; an answer without a readable JWT, INVALID_RESPONSE.
 */
export async function fetchGrant(ctx: Context): Promise<Grant> {
  let body: { token?: unknown; expiresAt?: unknown };
  try {
    body = await request(ctx, 'GET', '/token');
  } catch (error) {
    throw isSessiondError(error) && error.status === 401 ? sessionExpired(error) : error;
  }
  const claims = typeof body?.token === 'string' ? jwtClaims(body.token) : null;
  const expiresAt = body?.expiresAt ?? claims?.exp;
  if (!claims || typeof expiresAt !== 'number') {
    throw new SessiondError('INVALID_RESPONSE', 'GET /token: no JWT in the answer', 200);
  }
  return {
    accessToken: body.token as string,
    expiresAt,
    sessionId: typeof claims.sid === 'string' ? claims.sid : '',
  };
}
