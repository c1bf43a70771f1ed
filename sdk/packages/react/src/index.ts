/**
 * @sessiond/react — the public API. Importing it touches no browser global, so it is safe to
 * import and render on the server.
 */
export { SessionProvider } from './session-provider.js';
export type { SessionProviderProps } from './session-provider.js';
export { useSession } from './use-session.js';
export type { UseSessionResult } from './use-session.js';
