/**
 * @sessiond/client — the public API, all of it. Everything under lib/ is private.
 *
 *   import { createClient } from '@sessiond/client';
 *   const auth = createClient({ baseURL: 'http://127.0.0.1:3000', projectId: 'my-app' });
 *   auth.getSession(); // right on the first render
 */
export { createClient } from './create-client.js';
export type { SessiondClient } from './create-client.js';
export { memoryStorage } from './memory-storage.js';
export { SessiondError, isSessiondError } from './errors.js';
export type { ErrorCode, ServerErrorCode, ClientErrorCode } from './errors.js';
export type { SignUpEmailParams } from './sign-up-email.js';
export type { SignInEmailParams } from './sign-in-email.js';
export type { SignOutOptions } from './sign-out.js';
export type { UpdateUserParams } from './update-user.js';
export type {
  AuthChangeEvent,
  AuthChangeListener,
  ClientOptions,
  ParsedUserAgent,
  Session,
  SessionInfo,
  SignInMethod,
  StorageAdapter,
  User,
} from './types.js';
