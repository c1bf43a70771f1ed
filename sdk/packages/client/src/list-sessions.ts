import type { Context } from './lib/context.js';
import { request } from './lib/http.js';
import type { SessionInfo } from './types.js';

/**
 * Every active session of the signed-in user, newest first (`GET /api/auth/list-sessions`),
 * the caller's marked `current: true`. Each `token` is a revocation handle for
 * `signOut({ token })`. Rejects with UNAUTHORIZED when the server has no session.
 */
export async function listSessions(ctx: Context): Promise<SessionInfo[]> {
  const sessions = await request<SessionInfo[]>(ctx, 'GET', '/list-sessions');
  ctx.handle = sessions.find((s) => s.current)?.token;
  return sessions;
}
