import type { Context } from './lib/context.js';
import { signOut } from './sign-out.js';

/**
 * Ends the session as signOut() does (always resolves), then, in a browser and when
 * `signInRedirect` was given, navigates to it.
 */
export async function invalidateSession(ctx: Context): Promise<void> {
  await signOut(ctx);
  const target = ctx.options.signInRedirect;
  if (target !== undefined && typeof location !== 'undefined') location.assign(target);
}
