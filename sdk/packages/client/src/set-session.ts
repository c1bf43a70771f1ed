import { adopt, type Context } from './lib/context.js';
import type { Session } from './types.js';

/**
 * Replaces the local session (Agnost's setSession), for flows the client does not drive
 * itself. Stored, sent to the other tabs and announced with the event that fits: SIGNED_IN
 * for another session or user, TOKEN_REFRESHED for a new token, USER_UPDATED for a new user
 * snapshot, SIGNED_OUT for null. The server is not contacted.
 */
export function setSession(ctx: Context, session: Session | null): void {
  adopt(ctx, session, false);
}
