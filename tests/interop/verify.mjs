// Verifies a sessiond access token the way a backend would: with jose (a widely used JOSE
// library) against the server's published JWKS, checking issuer and audience.
//
// Usage:
//   node verify.mjs <baseUrl> <jwt>                     verify a JWT
//   node verify.mjs <baseUrl> --bearer=<session token>  first GET /api/auth/token with it
//   node verify.mjs <baseUrl> --cookie='<name>=<value>' same, with a session cookie
// (Write --bearer=<token> with "=": a session token may begin with "-", which would otherwise
// read as an option.)
// Options:
//   --issuer <iss>        expected "iss" (default: baseUrl)
//   --audience <aud>      expected "aud" (default: baseUrl)
//   --jwks-path <path>    where the JWKS is served (default: /api/auth/jwks)
//   --shared-secret       HS256/384/512 mode: verify with the secret in $SESSIOND_SECRET
//                         (read from the environment, never from the command line)
//
// Prints the verified payload as JSON on stdout and exits 0; on any failure prints the reason
// on stderr and exits 1 (2 for a usage error).
//
// Also importable: fetchToken() and verifyAccessToken() are what test_interop.mjs uses.

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import * as jose from 'jose';

// The asymmetric algorithms sessiond signs with. An explicit allowlist: a verifier should never
// let the token's header choose the algorithm.
export const ASYMMETRIC_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'];
export const SHARED_SECRET_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
export const DEFAULT_JWKS_PATH = '/api/auth/jwks';

// GET /api/auth/token with a session credential ({bearer} or {cookie}); returns {token,
// expiresAt}. Throws on anything but 200.
export async function fetchToken(baseUrl, { bearer, cookie } = {}) {
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (cookie) headers.cookie = cookie;
  const res = await fetch(new URL('/api/auth/token', baseUrl), { headers });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`GET /api/auth/token answered ${res.status}: ${text}`);
  }
  const body = JSON.parse(text);
  if (typeof body.token !== 'string' || typeof body.expiresAt !== 'number') {
    throw new Error(`unexpected /api/auth/token body: ${text}`);
  }
  return body;
}

// A remote JWK Set for the server (jose caches it and refetches on an unknown kid, at most once
// per cooldownDuration).
export function remoteJwks(baseUrl, { jwksPath = DEFAULT_JWKS_PATH, ...options } = {}) {
  return jose.createRemoteJWKSet(new URL(jwksPath, baseUrl), options);
}

// Verifies `token`; returns jose's {payload, protectedHeader}. Asymmetric mode uses `jwks` (or a
// fresh remote set for baseUrl); shared-secret mode uses `secret`.
export async function verifyAccessToken(token, {
  baseUrl,
  issuer = baseUrl,
  audience = baseUrl,
  jwks,
  jwksPath = DEFAULT_JWKS_PATH,
  secret,
  algorithms,
} = {}) {
  if (secret !== undefined) {
    return jose.jwtVerify(token, new TextEncoder().encode(secret), {
      issuer,
      audience,
      algorithms: algorithms ?? SHARED_SECRET_ALGORITHMS,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
  }
  return jose.jwtVerify(token, jwks ?? remoteJwks(baseUrl, { jwksPath }), {
    issuer,
    audience,
    algorithms: algorithms ?? ASYMMETRIC_ALGORITHMS,
    requiredClaims: ['exp', 'iat', 'sub'],
  });
}

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        bearer: { type: 'string' },
        cookie: { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        'jwks-path': { type: 'string' },
        'shared-secret': { type: 'boolean' },
      },
    });
  } catch (e) {
    console.error(`verify.mjs: ${e.message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [baseUrl, jwt] = positionals;
  const sources = [jwt, values.bearer, values.cookie].filter((v) => v !== undefined);
  if (!baseUrl || sources.length !== 1 || positionals.length > 2) {
    console.error('usage: node verify.mjs <baseUrl> (<jwt> | --bearer=<token> | --cookie=<c>) ' +
                  '[--issuer I] [--audience A] [--jwks-path P] [--shared-secret]');
    return 2;
  }
  let secret;
  if (values['shared-secret']) {
    secret = process.env.SESSIOND_SECRET;
    if (!secret) {
      console.error('verify.mjs: --shared-secret needs SESSIOND_SECRET in the environment');
      return 2;
    }
  }
  try {
    const token = jwt ?? (await fetchToken(baseUrl, {
      bearer: values.bearer,
      cookie: values.cookie,
    })).token;
    const { payload } = await verifyAccessToken(token, {
      baseUrl,
      issuer: values.issuer ?? baseUrl,
      audience: values.audience ?? baseUrl,
      jwksPath: values['jwks-path'] ?? DEFAULT_JWKS_PATH,
      secret,
    });
    process.stdout.write(`${JSON.stringify(payload)}\n`);
    return 0;
  } catch (e) {
    console.error(`verify.mjs: rejected: ${e.code ?? e.name}: ${e.message}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
