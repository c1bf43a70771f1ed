// @sessiond/client in chromium against the real sessiond: cross-tab sign-out, single-flight
// refresh, sign-out with the server down, auto-refresh before expiry, SESSION_EXPIRED.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { needs, newUser, setup, waitFor } from './harness.mjs';

describe('@sessiond/client in chromium', () => {
  let env;
  before(async () => {
    env = await setup();
    console.log(`# e2e: server ${env.server.url}, pages ${env.pages.origin}`);
    console.log(`# e2e: server features ${JSON.stringify(env.features)}`);
  });
  after(async () => {
    await env?.teardown();
  });

  test('sign-up signs the tab in and stores only the access token and user', async () => {
    const page = await env.clientTab('signup');
    const user = newUser();
    const session = await page.evaluate((u) => window.client.signUp.email(u), user);
    assert.equal(session.user.email, user.email);
    assert.equal(session.user.name, user.name);
    assert.equal(session.method, 'email');
    assert.equal(typeof session.sessionId, 'string');
    const stored = await page.evaluate(() => localStorage.getItem('sessiond_session_signup'));
    assert.deepEqual(JSON.parse(stored), session);
    // The long-lived credential is HttpOnly: not in storage, not in document.cookie.
    assert.equal(await page.evaluate(() => document.cookie), '');
    if (env.features.tokenRoute) {
      assert.match(session.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const claims = JSON.parse(Buffer.from(session.accessToken.split('.')[1], 'base64url'));
      assert.equal(session.expiresAt, claims.exp);
      assert.equal(session.sessionId, claims.sid);
    }
    await page.close();
  });

  test('two tabs: sign out in one, the other’s listener fires with null within a second', async () => {
    const a = await env.clientTab('tabs');
    await a.evaluate((u) => window.client.signUp.email(u), newUser());
    const b = await env.clientTab('tabs');
    assert.equal(await b.evaluate(() => window.client.getSession()?.user.email), await a.evaluate(() => window.client.getSession().user.email));

    const started = await a.evaluate(async () => {
      const at = Date.now();
      await window.client.signOut();
      return at;
    });
    const fired = await b.waitForFunction(
      () => window.events.find((e) => e.event === 'SIGNED_OUT'),
      null,
      { timeout: 1000 },
    );
    const event = await fired.jsonValue();
    assert.equal(event.session, null);
    assert.ok(event.at - started < 1000, `listener fired after ${event.at - started} ms`);
    assert.equal(await b.evaluate(() => window.client.getSession()), null);
    assert.equal(await b.evaluate(() => localStorage.getItem('sessiond_session_tabs')), null);
    await a.close();
    await b.close();
  });

  test('a sign-in in one tab reaches the other tab’s listener', async () => {
    const a = await env.clientTab('tabs-in');
    const b = await env.clientTab('tabs-in');
    const user = newUser();
    await a.evaluate((u) => window.client.signUp.email(u), user);
    const fired = await b.waitForFunction(
      () => window.events.find((e) => e.event === 'SIGNED_IN'),
      null,
      { timeout: 1000 },
    );
    assert.equal((await fired.jsonValue()).session.user.email, user.email);
    await a.close();
    await b.close();
  });

  test('20 concurrent refresh() calls: one request reaches the server', async (t) => {
    if (needs(t, env.features.tokenRoute, 'GET /api/auth/token')) return;
    const page = await env.clientTab('flight');
    await page.evaluate((u) => window.client.signUp.email(u), newUser());
    const before = await page.evaluate(() => window.client.getSession().accessToken);
    const requests = env.countRequests('/api/auth/token');

    const tokens = await page.evaluate(() =>
      Promise.all(Array.from({ length: 20 }, () => window.client.refresh())),
    );

    assert.equal(requests.length, 1);
    assert.equal(new Set(tokens).size, 1);
    assert.notEqual(tokens[0], before);
    assert.equal(await page.evaluate(() => window.client.getSession().accessToken), tokens[0]);
    await page.close();
  });

  test('two tabs refreshing at once: one tab at a time; the waiting tab takes the token', async (t) => {
    if (needs(t, env.features.tokenRoute, 'GET /api/auth/token')) return;
    const a = await env.clientTab('flight2');
    await a.evaluate((u) => window.client.signUp.email(u), newUser());
    const b = await env.clientTab('flight2');
    const log = env.trackRequests('/api/auth/token');
    // Tab A's token request is held at the network until tab B is queued for the refresh lock
    // (navigator.locks.query() shows it pending), so B surely asks while A holds the lock,
    // however loaded the machine is. Starting both at once let a slow B begin after A had
    // finished — and then rightly fetch a token of its own.
    let held = false;
    const bWaiting = async () => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const pending = await a.evaluate(async () => (await navigator.locks.query()).pending);
        if (pending.length > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const slow = async (route) => {
      if (!held) {
        held = true;
        await bWaiting();
      }
      await route.continue();
    };
    await env.context.route('**/api/auth/token', slow);
    const burst = (page) =>
      page.evaluate(() => Promise.all(Array.from({ length: 10 }, () => window.client.refresh())));
    const pendingA = burst(a);
    const deadline = Date.now() + 10_000;
    while (!held) {
      assert.ok(Date.now() < deadline, 'tab A never sent its token request');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [fromA, fromB] = await Promise.all([pendingA, burst(b)]);
    assert.equal(new Set(fromA).size, 1);
    assert.equal(new Set(fromB).size, 1);
    // Never two token requests in flight at once.
    let open = 0;
    for (const [kind] of log) {
      open += kind === 'start' ? 1 : -1;
      assert.ok(open <= 1, `overlapping token requests: ${JSON.stringify(log)}`);
    }
    // The tab that waited for the lock found the other's fresh token in storage and took it
    // without a request of its own.
    assert.deepEqual(log, [['start', 1], ['end', 1]]);
    assert.equal(fromA[0], fromB[0]);
    await env.context.unroute('**/api/auth/token', slow);
    await a.close();
    await b.close();
  });

  test('a refresh in one tab reaches the other tab’s listener (TOKEN_REFRESHED)', async (t) => {
    if (needs(t, env.features.tokenRoute, 'GET /api/auth/token')) return;
    const a = await env.clientTab('tabs-refresh');
    await a.evaluate((u) => window.client.signUp.email(u), newUser());
    const b = await env.clientTab('tabs-refresh');
    const token = await a.evaluate(() => window.client.refresh());
    const fired = await b.waitForFunction(
      () => window.events.find((e) => e.event === 'TOKEN_REFRESHED'),
      null,
      { timeout: 1000 },
    );
    assert.equal((await fired.jsonValue()).session.accessToken, token);
    assert.equal(await b.evaluate(() => window.client.getSession().accessToken), token);
    await a.close();
    await b.close();
  });

  test('refresh() after the server session ended: SESSION_EXPIRED and signed out', async (t) => {
    if (needs(t, env.features.tokenRoute, 'GET /api/auth/token')) return;
    const page = await env.clientTab('expired');
    await page.evaluate((u) => window.client.signUp.email(u), newUser());
    // End the session on the server behind the client's back (the cookie is HttpOnly, so
    // the page asks the server directly, as another app on the site could).
    await page.evaluate(async (api) => {
      await fetch(`${api}/api/auth/sign-out`, { method: 'POST', credentials: 'include' });
    }, env.apiBase);
    const result = await page.evaluate(() =>
      window.client.refresh().then(
        () => 'resolved',
        (error) => ({ name: error.name, code: error.code, status: error.status }),
      ),
    );
    assert.deepEqual(result, { name: 'SessiondError', code: 'SESSION_EXPIRED', status: 401 });
    assert.equal(await page.evaluate(() => window.client.getSession()), null);
    assert.equal(await page.evaluate(() => window.events.at(-1).event), 'SIGNED_OUT');
    await page.close();
  });
});

describe('sign-out with the server stopped', () => {
  test('resolves and clears local state', async () => {
    const env = await setup();
    try {
      const page = await env.clientTab('down');
      await page.evaluate((u) => window.client.signUp.email(u), newUser());
      assert.notEqual(await page.evaluate(() => window.client.getSession()), null);
      await env.server.stop();

      const outcome = await page.evaluate(async () => {
        const started = Date.now();
        await window.client.signOut();
        return { ms: Date.now() - started, session: window.client.getSession() };
      });

      assert.equal(outcome.session, null);
      assert.ok(outcome.ms < 10_000, `signOut took ${outcome.ms} ms`);
      assert.equal(await page.evaluate(() => localStorage.getItem('sessiond_session_down')), null);
      assert.deepEqual(
        await page.evaluate(() => window.events.map((e) => [e.event, e.session === null])),
        [
          ['INITIAL_SESSION', true],
          ['SIGNED_IN', false],
          ['SIGNED_OUT', true],
        ],
      );
    } finally {
      await env.teardown();
    }
  });
});

describe('auto-refresh with a short token lifetime', () => {
  test('the token is refreshed, without any call, before it expires', async (t) => {
    let env;
    try {
      env = await setup({ settings: { 'jwt.expiresIn': '4' } });
    } catch (error) {
      if (needs(t, !/jwt\.expiresIn: unknown key/.test(String(error)), 'the jwt.expiresIn setting')) return;
      throw error;
    }
    try {
      if (needs(t, env.features.tokenRoute, 'GET /api/auth/token')) return;
      const page = await env.clientTab('auto');
      const first = await page.evaluate((u) => window.client.signUp.email(u), newUser());
      assert.equal(first.expiresAt - Math.floor(Date.now() / 1000) <= 4, true);

      const refreshed = await page.waitForFunction(
        () => window.events.find((e) => e.event === 'TOKEN_REFRESHED'),
        null,
        { timeout: 6000 },
      );
      const event = await refreshed.jsonValue();
      assert.ok(event.at / 1000 < first.expiresAt, 'refreshed before the old token expired');
      assert.notEqual(event.session.accessToken, first.accessToken);
      assert.ok(event.session.expiresAt > first.expiresAt);
      assert.equal(event.session.sessionId, first.sessionId);
    } finally {
      await env.teardown();
    }
  });
});
