// `scripts/serve --demo`, as a newcomer tries it: the world it starts shows a live reaching
// every volunteer's destination on the dashboard within seconds, and the line it prints to
// watch a destination plays real media.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { useWorld, signInAdmin, screenshot } from './world.mjs';

const shared = useWorld({ demo: true });

test('the demo shows a live reaching all three destinations, and what one receives plays', async () => {
  const volunteers = shared.world.live.volunteers;
  assert.equal(volunteers.length, 3);
  const { page, errors } = await signInAdmin(shared.browser, shared.world);
  await page.waitForSelector('#destinations tbody tr[data-state="streaming"] >> nth=2', { timeout: 60_000 });
  assert.match(await page.textContent('#destination-counts'), /3 streaming/);
  for (const { name } of volunteers) assert.match(await page.textContent('#destinations'), new RegExp(name));
  await screenshot(page, 'demo-dashboard');

  // The `ffplay` line's address, read the way ffplay would: a video and an audio stream.
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v', 'error', '-rw_timeout', '15000000', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', volunteers[2].watch,
  ], { timeout: 30_000 });
  assert.deepEqual(stdout.trim().split('\n').sort(), ['audio', 'video']);
  assert.deepEqual(errors, []);
});
