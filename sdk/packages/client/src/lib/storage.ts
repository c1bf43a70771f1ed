/** Turns the `storage` option into an adapter, and (de)serialises the stored session. */
import { memoryStorage } from '../memory-storage.js';
import type { ClientOptions, Session, StorageAdapter } from '../types.js';

/**
 * The adapter for `option`. Web storage is used only in a browser (never Node's experimental
 * globals), and only when touching it works: sandboxed frames and some privacy modes throw.
 */
export function resolveStorage(option: ClientOptions['storage']): StorageAdapter {
  if (typeof option === 'object') return option;
  if (option === 'memory' || typeof window === 'undefined') return memoryStorage();
  try {
    const web = window[option ?? 'localStorage'];
    web.getItem('');
    return web;
  } catch {
    return memoryStorage(); // Storage refused: keep the session for this page only.
  }
}

/** The session in `raw` (stored or broadcast JSON), or null when absent or malformed. */
export function parseSession(raw: string | null | undefined): Session | null {
  let value: Partial<Session> | null;
  try {
    value = raw ? (JSON.parse(raw) as Partial<Session> | null) : null;
  } catch {
    return null; // Corrupt storage reads as signed-out; the next commit overwrites it.
  }
  return value &&
    typeof value.expiresAt === 'number' &&
    typeof value.accessToken === 'string' &&
    typeof value.sessionId === 'string' &&
    typeof value.user?.id === 'string'
    ? (value as Session)
    : null;
}
