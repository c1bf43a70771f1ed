import { commit, type Context } from './lib/context.js';

/**
 * Deletes the locally stored session and user (Agnost's clearLocalData), in this tab and the
 * others, announcing SIGNED_OUT if there was a session. The server session and its cookie are
 * left alone, and nothing redirects.
 */
export function clearLocalData(ctx: Context): void {
  if (ctx.session) commit(ctx, null, 'SIGNED_OUT');
  else ctx.storage.removeItem(ctx.key);
}
