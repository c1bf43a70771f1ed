import type { Context } from './lib/context.js';
import { request } from './lib/http.js';

/**
 * Ends every session of the user except this one (`POST /api/auth/revoke-other-sessions`;
 * Agnost's signOutAllExceptCurrent). The local state is unchanged. Rejects on failure.
 */
export async function signOutOthers(ctx: Context): Promise<void> {
  await request(ctx, 'POST', '/revoke-other-sessions');
}
