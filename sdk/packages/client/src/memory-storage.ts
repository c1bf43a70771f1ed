import type { StorageAdapter } from './types.js';

/**
 * A storage adapter that keeps the session in this page's memory only: nothing survives a
 * reload, and nothing is readable by other tabs. The default on the server (SSR) and wherever
 * web storage is refused.
 */
export function memoryStorage(): StorageAdapter {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}
