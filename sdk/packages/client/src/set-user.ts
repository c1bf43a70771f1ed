import { SessiondError } from './errors.js';
import { commit, type Context } from './lib/context.js';
import type { User } from './types.js';

/**
 * Replaces the locally stored user snapshot (Agnost's setUser) and announces USER_UPDATED.
 * The server is not contacted. Throws UNAUTHORIZED when there is no session to attach it to.
 */
export function setUser(ctx: Context, user: User): void {
  if (!ctx.session) throw new SessiondError('UNAUTHORIZED', 'setUser: no session');
  commit(ctx, { ...ctx.session, user }, 'USER_UPDATED');
}
