import type { Context } from './lib/context.js';
import type { Session } from './types.js';

/**
 * The current session, synchronously, or null when signed out. Right from the moment the
 * client is created (it restores the stored session), so the first render needs no loading
 * state. The access token may be near expiry: `client.fetch` refreshes it before use.
 */
export function getSession(ctx: Context): Session | null {
  return ctx.session;
}
