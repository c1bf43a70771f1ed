import { isSessiondError } from './errors.js';
import type { Context } from './lib/context.js';
import { needsRefresh, refreshSession } from './lib/refresh.js';

/**
 * `fetch` for your own API: refreshes the access token first when it is within 60 s of expiry,
 * then sends `Authorization: Bearer <accessToken>` (no header when signed out). A refresh that
 * fails for a network reason while the old token is still valid is not fatal: the request
 * goes out with the old token. Rejects with SESSION_EXPIRED when the session has ended.
 */
export async function authFetch(
  ctx: Context,
  input: RequestInfo | URL,
  init: RequestInit = {},
): Promise<Response> {
  let session = ctx.session;
  if (session && needsRefresh(session)) {
    try {
      session = await refreshSession(ctx);
    } catch (error) {
      if (isSessiondError(error, 'SESSION_EXPIRED') || session.expiresAt * 1000 <= Date.now()) {
        throw error;
      }
    }
  }
  const headers = new Headers(
    init.headers ?? (input instanceof Request ? input.headers : undefined),
  );
  if (session?.accessToken) headers.set('authorization', 'Bearer ' + session.accessToken);
  return (ctx.options.fetch ?? fetch)(input, { ...init, headers });
}
