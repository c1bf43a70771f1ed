import { establish } from './lib/establish.js';
import type { Context } from './lib/context.js';
import { request } from './lib/http.js';
import type { Session, User } from './types.js';

export interface SignUpEmailParams {
  email: string;
  password: string;
  name: string;
  image?: string | null;
  /** false: a browser-session cookie and a one-day server session. Default true. */
  rememberMe?: boolean;
}

/**
 * Creates the user, which also signs them in (`POST /api/auth/sign-up/email`), then fetches an
 * access token. Resolves with the new session after SIGNED_IN has been announced; rejects with
 * the server's code (INVALID_EMAIL, PASSWORD_TOO_SHORT, USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL, …).
 */
export async function signUpEmail(ctx: Context, params: SignUpEmailParams): Promise<Session> {
  const { user } = await request<{ user: User }>(ctx, 'POST', '/sign-up/email', params);
  return establish(ctx, user, 'email');
}
