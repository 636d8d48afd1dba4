// The dashboard during a live, as an admin watches it: every destination streaming; a
// destination's server goes down and its row turns "retrying" and back to "streaming" without
// a reload; pausing a volunteer from the dashboard stops their stream at the sink and resuming
// brings it back; after signing out, the admin routes refuse. Screenshots of each moment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWorld, screenshot, eventually, signInAdmin, destinationRow } from './world.mjs';

const shared = useWorld({ live: true });

async function sink(key) {
  const response = await fetch(`${shared.world.live.control}/sink/${encodeURIComponent(key)}`);
  return response.json();
}

async function control(key, action) {
  const response = await fetch(`${shared.world.live.control}/sink/${encodeURIComponent(key)}/${action}`, { method: 'POST' });
  assert.equal(response.status, 200);
}

const row = destinationRow;

test('an admin follows a live, sees a destination retry and return, and pauses a volunteer', async () => {
  const [ana, ben] = shared.world.live.volunteers;
  const { page, errors } = await signInAdmin(shared.browser, shared.world);

  // The live is on: both destinations stream, the page following the status stream.
  await page.waitForSelector('#destinations tbody tr[data-state="streaming"] >> nth=1', { timeout: 60_000 });
  assert.match(await page.textContent('#now'), new RegExp(shared.world.live.title.slice(0, 20)));
  assert.match(await page.textContent('#destination-counts'), /2 streaming/);
  await eventually(15, 'the sparklines have drawn', async () => (await page.locator('#destinations svg polyline').count()) === 2);
  await screenshot(page, 'admin-live-overview-desktop');

  // Ana's destination goes down: her row turns retrying, Ben's stays streaming, no reload.
  await page.evaluate(() => { window.__notReloaded = true; });
  await control(ana.streamKey, 'block');
  await row(page, ana.name).and(page.locator('[data-state="retrying"]')).waitFor({ timeout: 20_000 });
  assert.equal(await row(page, ben.name).getAttribute('data-state'), 'streaming');
  await page.selectOption('#destination-filter', 'retrying');
  assert.equal(await page.locator('#destinations tbody tr').count(), 1, 'the filter shows the retrying one alone');
  await screenshot(page, 'admin-destination-retrying');
  await page.selectOption('#destination-filter', '');
  await control(ana.streamKey, 'unblock');
  await row(page, ana.name).and(page.locator('[data-state="streaming"]')).waitFor({ timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the rows changed in place');

  // Pause Ana from the Accounts section: her stream stops at the sink; resume brings it back.
  const account = page.locator('#accounts [data-status="active"]', { hasText: ana.name });
  await account.getByRole('button', { name: 'Pause' }).click();
  await page.waitForSelector('#flash', { timeout: 20_000 });
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  assert.match(await page.textContent('#flash'), /Ana Volunteer paused/);
  await eventually(20, "Ana's stream stops at the sink", async () => !(await sink(ana.streamKey)).publishing);
  const benBefore = (await sink(ben.streamKey)).bytes;
  await eventually(10, "Ben's stream goes on", async () => (await sink(ben.streamKey)).bytes > benBefore);
  await row(page, ana.name).and(page.locator('[data-state="paused"]')).waitFor({ timeout: 15_000 });
  await page.locator('#accounts').scrollIntoViewIfNeeded();
  await screenshot(page, 'admin-accounts');

  await page.locator('#accounts [data-status="paused"]', { hasText: ana.name }).getByRole('button', { name: 'Resume' }).click();
  await page.waitForFunction(() => /resumed/.test(document.querySelector('#flash')?.textContent ?? ''), null, { timeout: 20_000 });
  const anaBefore = (await sink(ana.streamKey)).bytes;
  await eventually(60, "Ana's stream comes back at the sink", async () => {
    const now = await sink(ana.streamKey);
    return now.publishing && now.bytes > anaBefore + 50_000;
  });

  // A phone-width look during the live, then sign out: the admin routes refuse.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${shared.world.fanout}/admin`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  await page.waitForSelector('#destinations tbody tr[data-state="streaming"] >> nth=1', { timeout: 30_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling on a phone during a live (${overflow}px too wide; wide tables scroll inside their box)`);
  await screenshot(page, 'admin-live-overview-phone');
  const session = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  await page.click('#logout');
  await page.waitForURL(/\/admin\/login\?out=1$/);
  for (const path of ['/api/admin_dashboard', '/api/admin_events', '/admin/status/stream']) {
    const refused = await fetch(`${shared.world.fanout}${path}`, { headers: { cookie: session }, redirect: 'manual' });
    const toLogin = refused.status === 303 && refused.headers.get('location') === '/admin/login';
    assert.ok(refused.status === 401 || toLogin, `signed out, the old session cookie opens nothing (${path}: ${refused.status})`);
  }

  assert.deepEqual(errors, [], 'no console errors');
  await page.close();
});
