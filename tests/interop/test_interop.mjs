// Interop: sessiond's access tokens verified by jose, a JOSE library backends really use, against
// the JWKS the server publishes. One real sessiond process (from $SESSIOND_BIN) per algorithm,
// on port 0 with a temporary data folder.
//
//   SESSIOND_BIN=/path/to/sessiond node --test test_interop.mjs
//
// Waits are bounded: the "listening" line, /healthz, and the JWKS after a key rotation are
// polled with short pauses and a deadline, never a fixed sleep.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as pause } from 'node:timers/promises';
import * as jose from 'jose';

import { fetchToken, remoteJwks, verifyAccessToken } from './verify.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.SESSIOND_BIN;
if (!BIN) throw new Error('set SESSIOND_BIN to the sessiond binary');

const SECRET = 'interop-test-secret-0123456789abcdefghij'; // 40 characters (>= 32).
const LONG_SECRET = 'interop-test-long-secret-0123456789abcdefghijklmnopqrstuvwxyz012'; // 64.
assert.equal(SECRET.length, 40);
assert.equal(LONG_SECRET.length, 64);

const START_TIMEOUT_MS = 15_000;
const HEALTH_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 8_000;
const RELOAD_TIMEOUT_MS = 12_000; // The server checks its key file every 5 s.
const POLL_MS = 100;
const LISTENING_RE = /sessiond listening on (http:\/\/127\.0\.0\.1:(\d+))/;
const ROTATED_RE = /new signing key (\S+)/;

function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('SESSIOND_')) env[k] = v;
  }
  return { ...env, ...extra };
}

// One sessiond process.
class Sessiond {
  constructor({ algorithm, secret = SECRET }) {
    this.algorithm = algorithm;
    this.secret = secret;
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'sessiond-interop-'));
    this.env = cleanEnv({
      SESSIOND_SECRET: secret,
      SESSIOND_RATE_LIMIT_ENABLED: 'false',
      SESSIOND_INSECURE_FAST_HASH_FOR_TESTS: '1',
    });
    this.stdout = '';
    this.stderr = '';
  }

  async start() {
    this.proc = spawn(BIN, [
      '--port', '0', '--data-dir', this.dataDir,
      '--set', 'password.argon2MemoryKib=64', '--set', 'password.argon2Iterations=1',
      '--set', `jwt.algorithm=${this.algorithm}`,
    ], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.proc.stdout.setEncoding('utf8');
    this.baseUrl = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms\n${this.stderr}`));
      }, START_TIMEOUT_MS);
      this.proc.stdout.on('data', (d) => {
        this.stdout += d;
        const m = LISTENING_RE.exec(this.stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      this.exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`sessiond exited (${code}) before listening\n${this.stderr}`));
      });
    });
    await this.until(async () => {
      try {
        return (await fetch(`${this.baseUrl}/healthz`)).status === 200;
      } catch {
        return false;
      }
    }, HEALTH_TIMEOUT_MS, '/healthz answering 200');
    return this;
  }

  // Polls `probe` (async, truthy = done) with short pauses until `timeoutMs`; fails early if the
  // server exits. Returns the probe's value.
  async until(probe, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc.exitCode !== null) {
        throw new Error(`sessiond exited (${this.proc.exitCode}) while waiting for ${what}\n` +
                        this.stderr);
      }
      const value = await probe();
      if (value) return value;
      if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await pause(POLL_MS);
    }
  }

  // SIGTERM; resolves to the exit status (null if it had to be killed).
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.proc?.exitCode ?? null;
    this.proc.kill('SIGTERM');
    const timeout = pause(STOP_TIMEOUT_MS).then(() => 'timeout');
    const outcome = await Promise.race([this.exited, timeout]);
    if (outcome === 'timeout') {
      this.proc.kill('SIGKILL');
      await this.exited;
      return null;
    }
    return outcome.code;
  }

  cleanup() {
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  // `sessiond keys rotate` on this server's data folder, same secret and algorithm.
  rotate() {
    const p = spawnSync(BIN, ['keys', 'rotate', '--data-dir', this.dataDir,
                              '--set', `jwt.algorithm=${this.algorithm}`],
                        { env: this.env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(p.status, 0, `keys rotate failed\nstdout: ${p.stdout}\nstderr: ${p.stderr}`);
    const m = ROTATED_RE.exec(p.stdout);
    assert.ok(m, `keys rotate should print the new kid: ${p.stdout}`);
    return m[1];
  }

  async jwks(jwksPath = '/api/auth/jwks') {
    const res = await fetch(new URL(jwksPath, this.baseUrl));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    return res.json();
  }

  async signUp(name = 'Interop User') {
    const email = `interop-${Math.random().toString(36).slice(2)}-${Date.now()}@example.com`;
    const res = await fetch(new URL('/api/auth/sign-up/email', this.baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct-horse-battery', name }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    const bearer = res.headers.get('set-auth-token');
    assert.ok(bearer, 'sign-up must send set-auth-token');
    const cookie = res.headers.getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith('better-auth.session_token='));
    assert.ok(cookie, 'sign-up must set the session cookie');
    const session = await fetch(new URL('/api/auth/get-session', this.baseUrl), {
      headers: { authorization: `Bearer ${bearer}` },
    }).then((r) => r.json());
    return { email, user: body.user, bearer, cookie, sessionId: session.session.id };
  }
}

function decodeHeader(token) {
  return jose.decodeProtectedHeader(token);
}

// The token with its payload changed and the original signature kept.
function tamperPayload(token, change) {
  const [h, p, s] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const forged = Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64url');
  return `${h}.${forged}.${s}`;
}

function runVerifyCli(args, env = {}) {
  return spawnSync(process.execPath, [path.join(HERE, 'verify.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: cleanEnv(env),
  });
}

function assertClaims(payload, server, account) {
  assert.equal(payload.sub, account.user.id);
  assert.equal(payload.sid, account.sessionId);
  assert.equal(payload.email, account.user.email);
  assert.equal(payload.role, 'authenticated');
  assert.equal(payload.iss, server.baseUrl);
  assert.equal(payload.aud, server.baseUrl);
  assert.equal(payload.exp - payload.iat, 900);
  assert.equal(typeof payload.jti, 'string');
}

for (const algorithm of ['EdDSA', 'ES256', 'RS256']) {
  describe(`${algorithm}: tokens verify with jose against the JWKS`, { timeout: 120_000 }, () => {
    const server = new Sessiond({ algorithm });
    let account;
    let token;

    before(async () => {
      await server.start();
      account = await server.signUp();
      ({ token } = await fetchToken(server.baseUrl, { bearer: account.bearer }));
    });

    after(async () => {
      const code = await server.stop();
      server.cleanup();
      assert.equal(code, 0, `sessiond did not exit 0 after SIGTERM\n${server.stderr}`);
    });

    test('jwtVerify with createRemoteJWKSet(/api/auth/jwks), issuer and audience', async () => {
      const { payload, protectedHeader } = await verifyAccessToken(token, {
        baseUrl: server.baseUrl,
      });
      assertClaims(payload, server, account);
      assert.equal(protectedHeader.alg, algorithm);
      assert.equal(protectedHeader.typ, 'JWT');
      const { keys } = await server.jwks();
      assert.deepEqual(keys.map((k) => k.kid), [protectedHeader.kid]);
    });

    test('the same with /.well-known/jwks.json', async () => {
      const { payload } = await verifyAccessToken(token, {
        baseUrl: server.baseUrl,
        jwksPath: '/.well-known/jwks.json',
      });
      assertClaims(payload, server, account);
    });

    test('every published JWK imports as a public key', async () => {
      const { keys } = await server.jwks();
      for (const jwk of keys) {
        const key = await jose.importJWK(jwk, jwk.alg);
        assert.equal(key.type, 'public');
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
          assert.equal(jwk[member], undefined, `JWKS leaks "${member}"`);
        }
      }
    });

    test('verify.mjs CLI: with the JWT, with the bearer token, with the cookie', () => {
      // `--name=value`: a session token may begin with "-" (base64url), which parseArgs would
      // otherwise take for an option.
      for (const args of [[token], [`--bearer=${account.bearer}`], [`--cookie=${account.cookie}`]]) {
        const p = runVerifyCli([server.baseUrl, ...args]);
        assert.equal(p.status, 0, `verify.mjs ${args[0]}: ${p.stderr}`);
        assertClaims(JSON.parse(p.stdout), server, account);
      }
    });

    test('a tampered payload is rejected', async () => {
      const forged = tamperPayload(token, { sub: 'someone-else' });
      await assert.rejects(verifyAccessToken(forged, { baseUrl: server.baseUrl }),
                           { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
      const longer = tamperPayload(token, { exp: 4102444800 });
      await assert.rejects(verifyAccessToken(longer, { baseUrl: server.baseUrl }),
                           { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
      const p = runVerifyCli([server.baseUrl, forged]);
      assert.equal(p.status, 1, p.stdout);
      assert.equal(p.stdout, '');
    });

    test('a wrong audience or issuer is rejected', async () => {
      await assert.rejects(
        verifyAccessToken(token, { baseUrl: server.baseUrl, audience: 'https://other.example' }),
        { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
      await assert.rejects(
        verifyAccessToken(token, { baseUrl: server.baseUrl, issuer: 'https://other.example' }),
        { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss' });
    });

    test('an unsigned ("alg":"none") copy is rejected', async () => {
      const [, p] = token.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      await assert.rejects(verifyAccessToken(`${header}.${p}.`, { baseUrl: server.baseUrl }));
    });

    test('the session bearer token is not a JWT a backend would accept', async () => {
      await assert.rejects(verifyAccessToken(account.bearer, { baseUrl: server.baseUrl }));
    });

    test('after keys rotate: the old token still verifies, new tokens carry the new kid',
         async () => {
           const oldKid = decodeHeader(token).kid;
           // A backend that fetched the JWKS before the rotation and keeps its cache. jose
           // refetches on an unknown kid at most once per cooldownDuration (30 s by default);
           // 0 here so the test does not wait.
           const longLived = remoteJwks(server.baseUrl, { cooldownDuration: 0 });
           await verifyAccessToken(token, { baseUrl: server.baseUrl, jwks: longLived });

           const newKid = server.rotate();
           assert.notEqual(newKid, oldKid);
           const kids = await server.until(async () => {
             const k = (await server.jwks()).keys.map((j) => j.kid);
             return k.length > 1 ? k : null;
           }, RELOAD_TIMEOUT_MS, 'the JWKS listing the new key');
           assert.deepEqual(kids, [newKid, oldKid]);

           const { token: fresh } = await fetchToken(server.baseUrl, { bearer: account.bearer });
           assert.equal(decodeHeader(fresh).kid, newKid);
           assert.equal(decodeHeader(fresh).alg, algorithm);

           for (const jwks of [undefined, longLived]) {
             const a = await verifyAccessToken(token, { baseUrl: server.baseUrl, jwks });
             assert.equal(a.protectedHeader.kid, oldKid);
             assertClaims(a.payload, server, account);
             const b = await verifyAccessToken(fresh, { baseUrl: server.baseUrl, jwks });
             assert.equal(b.protectedHeader.kid, newKid);
             assertClaims(b.payload, server, account);
           }
           const p = runVerifyCli([server.baseUrl, token]);
           assert.equal(p.status, 0, p.stderr);
         });

    test('after sign-out the credential gives no new token', async () => {
      const other = await server.signUp('Leaving');
      const out = await fetch(new URL('/api/auth/sign-out', server.baseUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${other.bearer}` },
      });
      assert.equal(out.status, 200);
      await assert.rejects(fetchToken(server.baseUrl, { bearer: other.bearer }), /401/);
    });
  });
}

for (const [algorithm, secret] of [['HS256', SECRET], ['HS384', LONG_SECRET],
                                   ['HS512', LONG_SECRET]]) {
  describe(`${algorithm}: tokens verify with the shared secret`, { timeout: 60_000 }, () => {
    const server = new Sessiond({ algorithm, secret });
    let account;
    let token;

    before(async () => {
      await server.start();
      account = await server.signUp();
      ({ token } = await fetchToken(server.baseUrl, { bearer: account.bearer }));
    });

    after(async () => {
      const code = await server.stop();
      server.cleanup();
      assert.equal(code, 0, `sessiond did not exit 0 after SIGTERM\n${server.stderr}`);
    });

    test('jose.jwtVerify with the server secret as the key', async () => {
      const { payload, protectedHeader } = await jose.jwtVerify(
        token, new TextEncoder().encode(secret),
        { issuer: server.baseUrl, audience: server.baseUrl, algorithms: [algorithm] });
      assertClaims(payload, server, account);
      assert.equal(protectedHeader.alg, algorithm);
    });

    test('another secret or a tampered payload is rejected', async () => {
      await assert.rejects(
        verifyAccessToken(token, { baseUrl: server.baseUrl, secret: `${secret}x` }),
        { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
      await assert.rejects(
        verifyAccessToken(tamperPayload(token, { sub: 'x' }), { baseUrl: server.baseUrl, secret }),
        { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
    });

    test('the JWKS is empty, so JWKS-based verification finds no key', async () => {
      assert.deepEqual(await server.jwks(), { keys: [] });
      await assert.rejects(
        verifyAccessToken(token, { baseUrl: server.baseUrl, algorithms: [algorithm] }));
    });

    test('verify.mjs --shared-secret reads the secret from the environment', () => {
      const p = runVerifyCli([server.baseUrl, token, '--shared-secret'],
                             { SESSIOND_SECRET: secret });
      assert.equal(p.status, 0, p.stderr);
      assertClaims(JSON.parse(p.stdout), server, account);
    });
  });
}
