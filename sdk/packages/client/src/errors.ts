/**
 * Every failure the client reports is a {@link SessiondError} with a stable `code`.
 *
 * Server codes mirror sessiond's error table (docs/api.md, "Error codes") one for one; the
 * client adds four of its own for failures that never reach the server or that it interprets.
 * `code` is typed `ErrorCode | (string & {})` so that codes a newer server adds still type-check.
 */

/** Codes sessiond sends in `{code, message}` error bodies. */
export type ServerErrorCode =
  | 'INVALID_JSON'
  | 'VALIDATION_ERROR'
  | 'INVALID_EMAIL'
  | 'PASSWORD_TOO_SHORT'
  | 'PASSWORD_TOO_LONG'
  | 'BAD_REQUEST'
  | 'INVALID_EMAIL_OR_PASSWORD'
  | 'UNAUTHORIZED'
  | 'MISSING_OR_NULL_ORIGIN'
  | 'INVALID_ORIGIN'
  | 'INVALID_CALLBACKURL'
  | 'INVALID_PASSWORD'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL'
  | 'TOO_MANY_REQUESTS'
  | 'REQUEST_HEADER_FIELDS_TOO_LARGE'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

/**
 * Codes the client itself produces.
 * - `SESSION_EXPIRED`: the server no longer knows the session behind the HttpOnly cookie (signed
 *   out elsewhere, revoked, expired). The local state has already become signed-out.
 * - `NETWORK_ERROR`: the request never got an HTTP answer (offline, DNS, CORS refusal, aborted).
 * - `TIMEOUT`: no answer within `requestTimeout`.
 * - `INVALID_RESPONSE`: an answer that is not the JSON the protocol promises.
 */
export type ClientErrorCode = 'SESSION_EXPIRED' | 'NETWORK_ERROR' | 'TIMEOUT' | 'INVALID_RESPONSE';

export type ErrorCode = ServerErrorCode | ClientErrorCode;

export class SessiondError extends Error {
  override readonly name = 'SessiondError';
  /** Stable, meant for programs. */
  readonly code: ErrorCode | (string & {});
  /** HTTP status of the answer; 0 when there was none. */
  readonly status: number;

  constructor(code: ErrorCode | (string & {}), message: string, status = 0, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.status = status;
  }
}

/** True when `error` is a {@link SessiondError}, and, if `code` is given, has that code. */
export function isSessiondError(
  error: unknown,
  code?: ErrorCode | (string & {}),
): error is SessiondError {
  return error instanceof SessiondError && (code === undefined || error.code === code);
}
