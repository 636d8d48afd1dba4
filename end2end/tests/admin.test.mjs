// The admin dashboard's door and first screen, as an admin meets them: the dashboard asks for
// a sign-in, a wrong password is refused, the right one opens the dashboard (hydrated, following
// its live status stream), on a phone and a desktop; signing out closes it again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWorld, watchErrors, screenshot } from './world.mjs';

const shared = useWorld();

async function signIn(page, password) {
  await page.fill('input[name="name"]', shared.world.admin.name);
  await page.fill('input[name="password"]', password);
  await page.click('#sign-in');
}

test('an admin signs in, sees the dashboard on a phone and a desktop, and signs out', async () => {
  const page = await shared.browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors = watchErrors(page, shared.world.fanout);

  await page.goto(`${shared.world.fanout}/admin`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'the dashboard asks for a sign-in first');
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  await screenshot(page, 'admin-login-phone');

  await signIn(page, 'not the password at all');
  await page.waitForURL(/\/admin\/login\?failed=1$/);
  assert.match(await page.textContent('#login-message'), /do not match/);

  await signIn(page, shared.world.admin.password);
  await page.waitForURL(`${shared.world.fanout}/admin`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  assert.equal(await page.textContent('h1'), 'Admin');
  assert.match(await page.textContent('#admin-user'), /Signed in as admin/);
  assert.match(await page.textContent('#watching'), /FanoutTestChannel/);
  assert.match(await page.textContent('#now'), /No live right now/);
  assert.match(await page.textContent('#capacity'), /1000 Mbit\/s port|1000\.0 Mbit\/s port/);
  assert.match(await page.textContent('#destination-counts'), /No destination yet/);
  // Nothing overflows the phone's width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling on a phone (${overflow}px too wide)`);
  await screenshot(page, 'admin-overview-phone');

  await page.setViewportSize({ width: 1280, height: 800 });
  await screenshot(page, 'admin-overview-desktop');

  await page.click('#logout');
  await page.waitForURL(/\/admin\/login\?out=1$/);
  assert.match(await page.textContent('#login-message'), /signed out/);
  await page.goto(`${shared.world.fanout}/admin`);
  assert.equal(new URL(page.url()).pathname, '/admin/login', 'signed out, the dashboard is closed again');

  assert.deepEqual(errors, [], 'no console errors');
  await page.close();
});
