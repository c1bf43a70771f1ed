/**
 * Access-token refresh: single-flight inside a tab, one tab at a time across tabs, and the
 * timer that refreshes before expiry.
 */
import { isSessiondError } from '../errors.js';
import type { Session } from '../types.js';
import { commit, type Context } from './context.js';
import { fetchGrant, sessionExpired } from './grant.js';
import { jwtClaims } from './jwt.js';
import { sleep, withLock } from './lock.js';
import { parseSession } from './storage.js';

/** Refresh when the token has less than this many seconds left (baas.sh's rule)... */
const REFRESH_MARGIN_S = 60;
/** ...or, for tokens shorter than two margins, when half their lifetime is gone. */
const MIN_LIFETIME_FRACTION = 0.5;
/** After a refresh fails for a reason other than SESSION_EXPIRED, the timer tries again. */
const RETRY_MS = 10_000;
/** How long a tab that waited for the lock lets the previous holder's write reach it, ms. */
const SETTLE_MS = 500;
const SETTLE_POLL_MS = 10;
/** setTimeout's largest delay (2^31 - 1 ms); longer ones fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

/** Seconds before `session.expiresAt` at which its token counts as due for refresh. */
function margin(session: Session): number {
  const iat = jwtClaims(session.accessToken)?.iat;
  return typeof iat === 'number'
    ? Math.min(REFRESH_MARGIN_S, (session.expiresAt - iat) * MIN_LIFETIME_FRACTION)
    : REFRESH_MARGIN_S;
}

/** True when `session`'s access token is within its refresh margin of expiry (or past it). */
export function needsRefresh(session: Session): boolean {
  return session.expiresAt - Date.now() / 1000 <= margin(session);
}

/**
 * A fresh access token for the current session. Concurrent calls in a tab share one promise;
 * across tabs the lock lets one tab ask the server while the others wait and then take its
 * result from storage. Throws SESSION_EXPIRED, after committing the signed-out state, when the
 * server no longer knows the session.
 */
export function refreshSession(ctx: Context): Promise<Session> {
  ctx.inflight ??= runRefresh(ctx).finally(() => {
    ctx.inflight = null;
  });
  return ctx.inflight;
}

async function runRefresh(ctx: Context): Promise<Session> {
  const base = ctx.session;
  if (!base) throw sessionExpired();
  const generation = ctx.generation;
  try {
    const next = await withLock(ctx, async (waited) => {
      // Another tab may have refreshed while this one waited for the lock.
      const stored = waited ? await settledStorage(ctx, base) : storedSession(ctx);
      if (
        stored?.sessionId === base.sessionId &&
        stored.accessToken !== base.accessToken &&
        !needsRefresh(stored)
      ) {
        return stored;
      }
      const grant = await fetchGrant(ctx);
      const session: Session = { ...base, ...grant, sessionId: grant.sessionId || base.sessionId };
      // Stored before the lock is released, so the next tab to take it sees this token.
      if (ctx.generation === generation) ctx.storage.setItem(ctx.key, JSON.stringify(session));
      return session;
    });
    // Signed out, or in as someone else, while this refresh ran: its result is stale.
    if (ctx.generation !== generation || !ctx.session) throw sessionExpired();
    const session = { ...next, user: ctx.session.user };
    // A broadcast from the tab that did the work may already have brought this token.
    if (JSON.stringify(session) !== JSON.stringify(ctx.session)) {
      commit(ctx, session, 'TOKEN_REFRESHED');
    }
    return ctx.session;
  } catch (error) {
    if (isSessiondError(error, 'SESSION_EXPIRED') && ctx.generation === generation && ctx.session) {
      commit(ctx, null, 'SIGNED_OUT');
    }
    throw error;
  }
}

/** The session in storage now. */
function storedSession(ctx: Context): Session | null {
  return parseSession(ctx.storage.getItem(ctx.key));
}

/**
 * The stored session once the write of the tab that held the lock before this one has
 * landed. Browsers do not order the two: Chromium grants the lock and copies another tab's
 * localStorage write into this tab's renderer over separate channels, so the lock can arrive
 * first. While storage still holds the token this tab started from, it is re-read every
 * SETTLE_POLL_MS for up to SETTLE_MS; a tab whose predecessor failed (and wrote nothing)
 * refreshes that much later, which is the price of not sending a second request.
 */
async function settledStorage(ctx: Context, base: Session): Promise<Session | null> {
  const deadline = Date.now() + SETTLE_MS;
  let stored = storedSession(ctx);
  while (stored?.accessToken === base.accessToken && Date.now() < deadline) {
    await sleep(SETTLE_POLL_MS);
    stored = storedSession(ctx);
  }
  return stored;
}

/**
 * Arms the timer that refreshes the current session's token when it enters its refresh
 * margin (or after `retryMs`). Called by every commit; a no-op without a session or with
 * `autoRefresh: false`.
 */
export function schedule(ctx: Context, retryMs?: number): void {
  clearTimeout(ctx.timer);
  ctx.timer = undefined;
  const session = ctx.session;
  if (!session || ctx.options.autoRefresh === false) return;
  const due = retryMs ?? (session.expiresAt - margin(session)) * 1000 - Date.now();
  ctx.timer = setTimeout(() => {
    refreshSession(ctx).catch((error: unknown) => {
      // SESSION_EXPIRED has already signed the tab out; anything else is retried.
      if (!isSessiondError(error, 'SESSION_EXPIRED')) schedule(ctx, RETRY_MS);
    });
  }, Math.min(Math.max(due, 0), MAX_DELAY_MS));
  // In Node (tests, SSR) a pending refresh must not keep the process alive.
  (ctx.timer as { unref?: () => void }).unref?.();
}
