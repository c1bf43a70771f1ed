import type { Context } from './lib/context.js';
import type { User } from './types.js';

/** The signed-in user as last stored locally (no request), or null when signed out. */
export function getUser(ctx: Context): User | null {
  return ctx.session?.user ?? null;
}
