import { createClient } from '@sessiond/client';

declare global {
  interface Window {
    /** Set before the app loads to point it at another server (the e2e tests do). */
    SESSIOND_URL?: string;
  }
}

/**
 * The one client of the app, created at module level: it restores the stored session
 * synchronously, so the first render already shows who is signed in.
 */
export const auth = createClient({
  baseURL: window.SESSIOND_URL ?? import.meta.env.VITE_SESSIOND_URL ?? 'http://127.0.0.1:3000',
  projectId: 'example-web',
});
