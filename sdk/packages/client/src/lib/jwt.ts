/**
 * Reads (never verifies) the payload of a JWT. The client only needs `sid`, `iat` and `exp` to
 * name the session and to schedule refreshes; the server and your backend do the verifying.
 */

/** The payload of `jwt`, or null when it is not a decodable JWT. */
export function jwtClaims(jwt: string): Record<string, unknown> | null {
  try {
    const part = jwt.split('.')[1] ?? '';
    // atob is "forgiving": it accepts base64 without padding (HTML §8.3 forgiving-base64).
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))),
    );
    return typeof claims === 'object' && claims !== null
      ? (claims as Record<string, unknown>)
      : null;
  } catch {
    return null; // Not a JWT: callers fall back to defaults.
  }
}
