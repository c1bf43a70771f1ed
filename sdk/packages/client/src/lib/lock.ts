/**
 * The cross-tab refresh lock: at most one tab of an origin refreshes at a time, and no tab can
 * wait on it for ever.
 *
 * Why it cannot deadlock, point by point against the hangs reported for Supabase's auth-js
 * (supabase/auth-js#1119: lock acquisition without a timeout; supabase/auth-js#762 and
 * supabase/supabase-js#2344: listeners that call the client while it holds the lock):
 * 1. Waiting is bounded: a tab that is not granted the lock within `lockTimeout` stops waiting
 *    and refreshes without it (worst case: two refresh requests, each harmless).
 * 2. Holding is bounded: the only work done under the lock is reading storage (for at most
 *    500 ms, see refresh.ts) and at most two requests, each aborted after `requestTimeout`.
 * 3. Nothing under the lock takes the lock again or waits for user code: listeners run after
 *    it is released (see commit), and a tab's concurrent callers share one refresh promise
 *    instead of queueing on the lock.
 * 4. A tab that dies holding it releases it: Web Locks are freed with their tab, and the
 *    storage lease below expires by itself.
 */
import type { Context } from './context.js';

const LOCK_TIMEOUT_MS = 5_000;

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The work done under the lock. `waited` is true when this tab was granted the lock after
 * another tab released it, i.e. when that tab may just have done the same work. It is false
 * when the lock was free, and when the work runs without it (a stuck holder wrote nothing).
 */
export type LockedWork<T> = (waited: boolean) => Promise<T>;

/** Runs `work` holding the lock named after `ctx.key` when possible, without it otherwise. */
export async function withLock<T>(ctx: Context, work: LockedWork<T>): Promise<T> {
  const timeout = ctx.options.lockTimeout ?? LOCK_TIMEOUT_MS;
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  if (!locks) return withStorageLease(ctx.key + '_lock', timeout, work);
  let granted = false;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // First without queueing, which tells whether another tab holds the lock.
    const free = await locks.request(ctx.key, { ifAvailable: true }, async (lock) => {
      if (!lock) return null;
      granted = true;
      return { value: await work(false) };
    });
    if (free) return free.value;
    timer = setTimeout(() => abort.abort(), timeout);
    return await locks.request(ctx.key, { signal: abort.signal }, () => {
      granted = true;
      clearTimeout(timer);
      return work(true);
    });
  } catch (error) {
    clearTimeout(timer);
    if (granted) throw error; // The work failed, not the lock.
    // Not granted in time (its holder is stuck) or Web Locks refused us: go on without it.
    return work(false);
  }
}

/**
 * Fallback for browsers without Web Locks: a lease in localStorage, "<owner> <expiry ms>".
 * A tab takes a free or expired lease, waits a moment for a racing tab's write to land (the
 * last writer wins) and proceeds if the lease is still its own. The lease expires after
 * `timeout` even if its owner dies, and a waiter gives up after `timeout`.
 */
async function withStorageLease<T>(
  name: string,
  timeout: number,
  work: LockedWork<T>,
): Promise<T> {
  let store: Storage | undefined;
  try {
    store = typeof window === 'undefined' ? undefined : window.localStorage;
  } catch {
    store = undefined; // localStorage refused: no other tab can coordinate with us either.
  }
  const me = Math.random().toString(36).slice(2) + ' ';
  const deadline = Date.now() + timeout;
  let waited = false;
  while (store && Date.now() < deadline) {
    const [, expiry] = (store.getItem(name) ?? '').split(' ');
    if (!expiry || Number(expiry) < Date.now()) {
      store.setItem(name, me + (Date.now() + timeout));
      await sleep(30);
      if (store.getItem(name)?.startsWith(me)) {
        try {
          return await work(waited);
        } finally {
          if (store.getItem(name)?.startsWith(me)) store.removeItem(name);
        }
      }
    } else {
      await sleep(50);
    }
    waited = true; // The lease was another tab's, or another tab's write won the race.
  }
  return work(false);
}
