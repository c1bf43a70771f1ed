import { commit, type Context } from './lib/context.js';
import { request } from './lib/http.js';
import type { User } from './types.js';

export interface UpdateUserParams {
  name?: string;
  image?: string | null;
}

/**
 * Changes the user's name and/or image (`POST /api/auth/update-user`), then updates the local
 * snapshot and announces USER_UPDATED (in every tab). Resolves with the updated user, or null
 * if the tab was signed out meanwhile.
 */
export async function updateUser(ctx: Context, params: UpdateUserParams): Promise<User | null> {
  await request(ctx, 'POST', '/update-user', params);
  const session = ctx.session;
  if (!session) return null;
  const user = { ...session.user, ...params };
  commit(ctx, { ...session, user }, 'USER_UPDATED');
  return user;
}
