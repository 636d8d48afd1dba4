// What Fanout's pages cost a volunteer's phone, measured in Chromium: the bytes a first visit
// transfers with an empty cache (HTML and every asset fetched until the page has hydrated), what a
// repeat visit downloads again, and the time to interactive on a throttled "slow 4G" link. It
// prints the figures (`scripts/bench weight` records them for BENCHMARKS.md, on a release build);
// it fails only if hydration or the form breaks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWorld, watchErrors } from './world.mjs';

const shared = useWorld();

/** The slow-4G profile of Chromium's DevTools: 1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT. */
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6 * 1000 * 1000) / 8, uploadThroughput: (750 * 1000) / 8 };

/**
 * Records what `page` transfers: per request, its URL, resource type, content encoding, bytes on
 * the wire (`encodedDataLength`: headers and body as received) and whether a cache answered it.
 */
async function recordTransfers(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const requests = new Map();
  const entry = (id) => requests.get(id) ?? requests.set(id, { bytes: 0, cached: false }).get(id);
  cdp.on('Network.requestWillBeSent', (e) => Object.assign(entry(e.requestId), { url: e.request.url, type: e.type }));
  cdp.on('Network.requestServedFromCache', (e) => { entry(e.requestId).cached = true; });
  cdp.on('Network.responseReceived', (e) => {
    const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    Object.assign(entry(e.requestId), {
      status: e.response.status,
      encoding: headers['content-encoding'] ?? 'identity',
      cacheControl: headers['cache-control'] ?? '',
      cached: entry(e.requestId).cached || e.response.fromDiskCache || e.response.fromPrefetchCache,
    });
  });
  cdp.on('Network.loadingFinished', (e) => { entry(e.requestId).bytes = e.encodedDataLength; });
  return {
    cdp,
    /** The requests finished so far, and clears the record. */
    take() {
      const done = [...requests.values()].filter((r) => r.url && r.status);
      requests.clear();
      return done;
    },
  };
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** A one-line summary of `requests`: the total on the wire and each request's share. */
function summary(requests) {
  const total = requests.reduce((sum, r) => sum + (r.cached ? 0 : r.bytes), 0);
  const parts = requests.map((r) => {
    // A page by its route only: a manage page's path is the volunteer's link, a secret.
    const path = new URL(r.url).pathname;
    const name = r.type === 'Document' ? (path.startsWith('/manage/') ? '/manage/…' : path) : path.split('/').pop();
    return `${name} ${r.cached ? 'cached' : kib(r.bytes)} (${r.encoding})`;
  });
  return { total, line: `${kib(total)}: ${parts.join(', ')}` };
}

/** Opens `url` on `page` and waits until it has hydrated. */
async function openHydrated(page, url) {
  await page.goto(url);
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached', timeout: 60_000 });
  await page.waitForLoadState('networkidle');
}

/** Whether the site's assets carry content hashes in their names (release builds do). */
const hashed = (requests) => requests.some((r) => /\/pkg\/fanout\.[^.]+\.wasm$/.test(r.url));

test('the signup page: a first visit, a repeat visit, and a throttled one', async () => {
  const context = await shared.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const errors = watchErrors(page, shared.world.fanout);
  const transfers = await recordTransfers(page);

  await openHydrated(page, `${shared.world.fanout}/`);
  const first = transfers.take();
  const firstVisit = summary(first);
  console.log(`weight: / first visit ${firstVisit.line}`);
  assert.ok(first.some((r) => r.type === 'Document'), 'the page itself was recorded');

  await openHydrated(page, `${shared.world.fanout}/`);
  const again = transfers.take();
  const assets = again.filter((r) => r.type !== 'Document');
  const downloaded = assets.filter((r) => !r.cached);
  console.log(`weight: / repeat visit ${summary(again).line}`);
  // A figure, not a check (the HTTP tests check the headers): Chromium keeps no entry this large
  // in a fresh context's cache, so a debug build's WASM (megabytes) comes again.
  const again_bytes = downloaded.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`weight: / repeat visit downloaded ${downloaded.length} asset(s) again, ${kib(again_bytes)}${hashed(first) ? '' : ' (names not hashed)'}`);

  // A fresh cache on a slow link: the form is there (and posts as plain HTML) before hydration.
  const slow = await shared.browser.newContext({ viewport: { width: 390, height: 844 } });
  const slowPage = await slow.newPage();
  const slowErrors = watchErrors(slowPage, shared.world.fanout);
  const cdp = await slow.newCDPSession(slowPage);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  const started = Date.now();
  await slowPage.goto(`${shared.world.fanout}/`, { waitUntil: 'domcontentloaded' });
  const formAt = Date.now() - started;
  assert.ok(await slowPage.isVisible('#signup-submit'), 'the form is on the page before hydration');
  assert.equal(await slowPage.getAttribute('form:has(#signup-submit)', 'method'), 'post', 'it posts as plain HTML');
  await slowPage.waitForSelector('html[data-hydrated="true"]', { state: 'attached', timeout: 120_000 });
  const interactiveAt = Date.now() - started;
  console.log(`weight: / on slow 4G (1.6 Mbit/s, 150 ms RTT): the form shows at ${formAt} ms, interactive (hydrated) at ${interactiveAt} ms`);

  // Hydrated, the form still validates in the browser.
  await slowPage.fill('#signup-email', 'ana@example');
  await slowPage.press('#signup-email', 'Tab');
  assert.match(await slowPage.textContent('#signup-email-error'), /e-mail address like name@example.org/);
  assert.deepEqual([...errors, ...slowErrors], [], 'no console errors');
  await slow.close();
  await context.close();
});

test('the manage page a volunteer lands on, and the admin dashboard after sign-in', async () => {
  await fetch(`${shared.world.restream}/__standin/consent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'approve', user_id: shared.world.volunteerId }),
  });
  const context = await shared.browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const errors = watchErrors(page, shared.world.fanout);
  await openHydrated(page, `${shared.world.fanout}/`);
  await page.fill('#signup-display_name', 'Ana Volunteer');
  await page.fill('#signup-email', 'ana@example.org');
  await page.fill('#signup-youtube', 'https://www.youtube.com/@AnaVolunteer');
  await page.check('#signup-consent');
  await Promise.all([page.waitForURL(/\/manage\/[^?]+\?connected=1$/), page.click('#signup-submit')]);
  const manage = page.url().replace(/\?.*$/, '');
  await context.close();

  // The manage link opened later, on a phone with an empty cache.
  const fresh = await shared.browser.newContext({ viewport: { width: 390, height: 844 } });
  const managePage = await fresh.newPage();
  const manageErrors = watchErrors(managePage, shared.world.fanout);
  const transfers = await recordTransfers(managePage);
  await openHydrated(managePage, manage);
  assert.match(await managePage.textContent('#manage-status'), /Active/);
  console.log(`weight: /manage/… first visit ${summary(transfers.take()).line}`);
  await fresh.close();

  // The admin signs in with an empty cache: the login page, then the dashboard.
  const adminContext = await shared.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const admin = await adminContext.newPage();
  const adminErrors = watchErrors(admin, shared.world.fanout);
  const adminTransfers = await recordTransfers(admin);
  await openHydrated(admin, `${shared.world.fanout}/admin/login`);
  console.log(`weight: /admin/login first visit ${summary(adminTransfers.take()).line}`);
  await admin.fill('input[name="name"]', shared.world.admin.name);
  await admin.fill('input[name="password"]', shared.world.admin.password);
  await Promise.all([admin.waitForURL(`${shared.world.fanout}/admin`), admin.click('#sign-in')]);
  await admin.waitForSelector('html[data-hydrated="true"]', { state: 'attached', timeout: 60_000 });
  await admin.waitForSelector('#destinations', { timeout: 20_000 });
  console.log(`weight: /admin after sign-in ${summary(adminTransfers.take()).line}`);
  await adminContext.close();
  assert.deepEqual([...errors, ...manageErrors, ...adminErrors], [], 'no console errors');
});
