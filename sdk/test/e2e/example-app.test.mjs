// The example app (examples/web, built with Vite) in chromium against the real sessiond:
// sign-up through the form, the session on the first render after a reload, the session list
// with revoke, sign-out everywhere, and a screenshot.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OUTPUT, needs, newUser, setup, signInFromNode } from './harness.mjs';

const FIREFOX_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Records, from the very first DOM change, what #root showed when React first filled it. */
function recordFirstRender() {
  window.__firstRender = null;
  new MutationObserver(() => {
    const root = document.getElementById('root');
    if (window.__firstRender === null && root && root.childElementCount > 0) {
      window.__firstRender = root.textContent;
    }
  }).observe(document, { childList: true, subtree: true, characterData: true });
}

describe('example app', () => {
  let env;
  let page;
  const user = newUser('Ada Lovelace');

  before(async () => {
    env = await setup();
    console.log(`# e2e: example app at ${env.pages.origin}, server ${env.server.url}`);
    page = await env.context.newPage();
    await page.addInitScript((url) => {
      window.SESSIOND_URL = url;
    }, env.apiBase);
    await page.addInitScript(recordFirstRender);
  });
  after(async () => {
    await env?.teardown();
  });

  test('a failed sign-in shows the server’s error code', async () => {
    await page.goto(env.pages.origin);
    await page.getByTestId('email').fill(user.email); // not signed up yet: same answer
    await page.getByTestId('password').fill('wrong-password-123');
    await page.getByTestId('submit').click();
    await page.getByTestId('error').waitFor();
    assert.equal(
      await page.getByTestId('error').textContent(),
      'INVALID_EMAIL_OR_PASSWORD: Invalid email or password',
    );
  });

  test('sign-up through the form shows the signed-in user', async () => {
    await page.getByTestId('mode-sign-up').click();
    await page.getByTestId('name').fill(user.name);
    await page.getByTestId('email').fill(user.email);
    await page.getByTestId('password').fill(user.password);
    await page.getByTestId('submit').click();
    await page.getByTestId('user-email').waitFor();
    assert.equal(await page.getByTestId('user-email').textContent(), user.email);
    assert.equal(await page.getByTestId('user-name').textContent(), user.name);
  });

  test('reload: the first render already shows the session (no loading flash)', async () => {
    await page.reload();
    const firstRender = await (await page.waitForFunction(() => window.__firstRender)).jsonValue();
    assert.ok(firstRender.includes(`Signed in as ${user.email}`), `first render was: ${firstRender}`);
    assert.ok(!firstRender.includes('Password'), 'the sign-in form never showed');
  });

  test('the session list shows every session; revoking one removes it on the server', async (t) => {
    if (needs(t, env.features.listSessions && env.features.revokeSession, 'list-sessions and revoke-session')) return;
    const firefox = await signInFromNode(env.server.url, user, FIREFOX_UA);
    await signInFromNode(env.server.url, user, IPHONE_UA);
    await page.reload();
    await page.getByTestId('session-row').nth(2).waitFor();
    const rows = page.getByTestId('session-row');
    assert.equal(await rows.count(), 3);
    const current = page.locator('[data-testid=session-row][data-current=true]');
    assert.equal(await current.count(), 1);
    assert.match(await current.textContent(), /this device/);
    const firefoxRow = rows.filter({ hasText: 'Firefox' });
    assert.equal(await firefoxRow.count(), 1);
    assert.match(await firefoxRow.textContent(), /127\.0\.0\.1/);

    // Screenshot of the example app with three sessions listed.
    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, 'example-app.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`# e2e: screenshot of the example app: ${shot}`);

    await firefoxRow.getByTestId('revoke').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=session-row]').length === 2);
    assert.equal(await rows.filter({ hasText: 'Firefox' }).count(), 0);
    const answer = await fetch(`${env.server.url}/api/auth/get-session`, { headers: { cookie: firefox } });
    assert.equal(await answer.text(), 'null');
    // This tab is still signed in.
    assert.equal(await page.getByTestId('user-email').textContent(), user.email);
  });

  test('sign out everywhere ends every session and shows the form', async (t) => {
    if (needs(t, env.features.listSessions, 'revoke-sessions')) return;
    const phone = await signInFromNode(env.server.url, user, IPHONE_UA);
    await page.getByTestId('sign-out-everywhere').click();
    await page.getByTestId('sign-in-form').waitFor();
    const answer = await fetch(`${env.server.url}/api/auth/get-session`, { headers: { cookie: phone } });
    assert.equal(await answer.text(), 'null');
    assert.equal(await page.evaluate(() => localStorage.getItem('sessiond_session_example-web')), null);
  });
});
