import { establish } from './lib/establish.js';
import type { Context } from './lib/context.js';
import { request } from './lib/http.js';
import type { Session, User } from './types.js';

export interface SignInEmailParams {
  email: string;
  password: string;
  /** false: a browser-session cookie and a one-day server session. Default true. */
  rememberMe?: boolean;
}

/**
 * Signs in with email and password (`POST /api/auth/sign-in/email`), then fetches an access
 * token. Resolves with the new session after SIGNED_IN has been announced (to this tab's
 * listeners and every other tab); rejects with INVALID_EMAIL_OR_PASSWORD for wrong credentials.
 */
export async function signInEmail(ctx: Context, params: SignInEmailParams): Promise<Session> {
  const { user } = await request<{ user: User }>(ctx, 'POST', '/sign-in/email', params);
  return establish(ctx, user, 'email');
}
