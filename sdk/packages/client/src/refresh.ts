import type { Context } from './lib/context.js';
import { refreshSession } from './lib/refresh.js';

/**
 * Fetches a fresh access token now and resolves with it. Rarely needed: `client.fetch` and the
 * refresh timer keep the token fresh. Concurrent calls share one request (and tabs take turns:
 * a tab that waited for another's refresh takes its token without a request). Rejects with
 * SESSION_EXPIRED, after the state has become signed-out, when the server no longer knows the
 * session; with NETWORK_ERROR / TIMEOUT (state unchanged) when it cannot be reached.
 */
export async function refresh(ctx: Context): Promise<string> {
  return (await refreshSession(ctx)).accessToken;
}
