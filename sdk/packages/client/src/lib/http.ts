/**
 * The one function that talks to sessiond and turns every failure into a SessiondError
 * (auth-js's `_handleRequest` idea, without its class).
 */
import { SessiondError } from '../errors.js';
import type { Context } from './context.js';

/** Default for `requestTimeout`: long enough for a slow network, short enough that a lock
 * holder waiting on a dead server lets go. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Sends `method path` (relative to `<baseURL>/api/auth`) with the session cookie
 * (`credentials: 'include'`: the HttpOnly cookie is the credential) and returns the JSON body.
 * Throws NETWORK_ERROR / TIMEOUT without an answer, INVALID_RESPONSE for a body that is not
 * JSON, and the server's own `{code, message}` for any non-2xx status.
 */
export async function request<T>(
  ctx: Context,
  method: 'GET' | 'POST',
  path: string,
  body?: object,
): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ctx.options.requestTimeout ?? REQUEST_TIMEOUT_MS);
  let response: Response;
  let text: string;
  try {
    // Resolved per call and called unbound: window.fetch throws "Illegal invocation" when
    // called as a method of another object.
    response = await (ctx.options.fetch ?? fetch)(ctx.api + path, {
      method,
      credentials: 'include',
      signal: abort.signal,
      ...(body && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    text = await response.text();
  } catch (cause) {
    throw abort.signal.aborted
      ? new SessiondError('TIMEOUT', `${method} ${path} timed out`, 0, cause)
      : new SessiondError('NETWORK_ERROR', `${method} ${path} failed: no answer`, 0, cause);
  } finally {
    clearTimeout(timer);
  }
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (cause) {
    throw new SessiondError('INVALID_RESPONSE', `${method} ${path}: body is not JSON`, response.status, cause);
  }
  if (!response.ok) {
    const { code, message } = (data ?? {}) as { code?: unknown; message?: unknown };
    throw new SessiondError(
      typeof code === 'string' ? code : 'INVALID_RESPONSE',
      typeof message === 'string' ? message : `${method} ${path}: HTTP ${response.status}`,
      response.status,
    );
  }
  return data as T;
}
