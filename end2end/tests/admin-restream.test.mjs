// What Restream receives, beside what Fanout sends, on the dashboard during a live: the
// Restream stand-in's streaming updates report what its ingest (the world's nginx sink) really
// receives; told to report one volunteer's destination as not received, that row alone turns
// "sent but not received" (no reload); a channel reported offline shows on its row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWorld, screenshot, signInAdmin, destinationRow } from './world.mjs';

const shared = useWorld({ live: true });

async function steer(path, body) {
  const response = await fetch(`${shared.world.restream}/__standin/updates/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 204, `steer ${path}`);
}

const row = destinationRow;

test("a destination Restream does not receive is flagged on its row only, and a channel offline shows", async () => {
  const [ana, ben] = shared.world.live.volunteers;
  const { page, errors } = await signInAdmin(shared.browser, shared.world);
  await page.waitForSelector('#destinations tbody tr[data-state="streaming"] >> nth=1', { timeout: 60_000 });
  await page.waitForFunction(() => /Restream receives 2 of 2 destinations/.test(document.querySelector('#restream-totals')?.textContent ?? ''), null, { timeout: 30_000 });

  await page.evaluate(() => { window.__notReloaded = true; });
  await steer('received', { user_id: ben.id, received: false });
  await row(page, ben.name).and(page.locator('[data-flag="sent_not_received"]')).waitFor({ timeout: 45_000 });
  assert.match(await row(page, ben.name).textContent(), /sent but not received/);
  assert.equal(await row(page, ana.name).getAttribute('data-flag'), null, "Ana's row is not flagged");
  assert.match(await page.textContent('#restream-totals'), /Restream receives 1 of 2 destinations.*1 sent but not received/);
  assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the row changed in place');

  await steer('channel', { channel_id: ana.channels[0], online: false });
  await row(page, ana.name).locator('[data-channel-state="offline"]').waitFor({ timeout: 20_000 });
  await screenshot(page, 'admin-restream-receives');

  await steer('received', { user_id: ben.id, received: true });
  await steer('channel', { channel_id: ana.channels[0], online: true });
  await page.waitForFunction(() => !document.querySelector('#destinations tbody tr[data-flag]'), null, { timeout: 30_000 });
  assert.deepEqual(errors, [], 'no console errors');
  await page.close();
});
