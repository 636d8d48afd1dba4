// Signing up as a volunteer, in Chromium, against Fanout and the Restream.io stand-in.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, launchBrowser, watchErrors, screenshot } from './world.mjs';

let world;
let browser;

before(async () => {
  world = await startWorld();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

/** Tells the stand-in how its authorize dialog answers the next visits. */
async function consent(mode) {
  const response = await fetch(`${world.restream}/__standin/consent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode, user_id: world.volunteerId }),
  });
  assert.ok(response.ok, `consent ${mode}: ${response.status}`);
}

async function openForm(page) {
  await page.goto(`${world.fanout}/`);
  await page.waitForSelector('html[data-hydrated="true"]', { state: 'attached', timeout: 20_000 });
}

async function fillValidForm(page) {
  await page.fill('#signup-display_name', 'Ana Volunteer');
  await page.fill('#signup-email', 'ana@example.org');
  await page.fill('#signup-youtube', 'https://www.youtube.com/@AnaVolunteer');
  await page.check('#signup-consent');
}

/** The account id a manage page URL names (its link starts with it). */
function accountOf(url) {
  return new URL(url).pathname.replace('/manage/', '').split('.')[0];
}

test('a volunteer corrects their mistakes, connects on Restream.io and sees their channels', async () => {
  await consent('prompt');
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors = watchErrors(page);
  await openForm(page);

  // Mistakes are pointed out as the volunteer leaves each field.
  await page.fill('#signup-display_name', 'Ana Volunteer');
  await page.fill('#signup-email', 'ana@example');
  await page.press('#signup-email', 'Tab');
  assert.match(await page.textContent('#signup-email-error'), /e-mail address like name@example.org/);
  assert.equal(await page.getAttribute('#signup-email', 'aria-invalid'), 'true');
  assert.match(await page.getAttribute('#signup-email', 'aria-describedby'), /signup-email-error/);
  await page.fill('#signup-youtube', 'https://twitch.tv/ana');
  await page.press('#signup-youtube', 'Tab');
  assert.match(await page.textContent('#signup-youtube-error'), /not a YouTube address/);

  // Submitting lists every problem and moves focus to the list.
  await page.click('#signup-submit');
  await page.waitForSelector('#signup-error-summary');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'signup-error-summary');
  assert.match(await page.textContent('#signup-error-summary'), /There are 3 problems/);
  assert.equal(page.url(), `${world.fanout}/`, 'nothing was sent');
  await screenshot(page, 'signup-form-errors');

  // Correcting clears each message as it is typed.
  await page.fill('#signup-email', 'ana@example.org');
  assert.equal(await page.$('#signup-email-error'), null);
  await page.fill('#signup-youtube', 'https://www.youtube.com/@AnaVolunteer');
  await page.check('#signup-consent');
  assert.equal(await page.$('#signup-error-summary'), null, 'no problem left');

  // On to Restream.io's dialog, and back.
  await Promise.all([page.waitForURL((url) => url.href.startsWith(world.restream)), page.click('#signup-submit')]);
  await page.getByRole('button', { name: /allow/i }).click();
  await page.waitForURL(/\/manage\/[^?]+\?connected=1$/);
  assert.match(await page.textContent('#manage-welcome'), /You're connected, Ana Volunteer!/);
  const channels = await page.$$eval('#manage-channels li', (items) => items.map((li) => li.textContent));
  assert.ok(channels.length >= 1, 'the Restream channels are listed');
  assert.match(await page.textContent('#manage-status'), /Active/);
  assert.ok((await page.inputValue('#manage-link')).startsWith(`${world.fanout}/manage/`), 'the manage link to keep');
  await screenshot(page, 'signup-success');
  assert.deepEqual(errors, [], 'no console errors');
  world.firstAccount = accountOf(page.url());
  await page.close();
});

test('the same volunteer signing up again keeps one account', async () => {
  await consent('approve');
  const page = await browser.newPage();
  await openForm(page);
  await fillValidForm(page);
  await Promise.all([page.waitForURL(/\/manage\/[^?]+\?connected=1$/), page.click('#signup-submit')]);
  const again = accountOf(page.url());
  if (world.firstAccount) assert.equal(again, world.firstAccount, 'the same account as the first sign-up');
  assert.match(await page.textContent('#manage-welcome'), /You're connected/);
  await page.close();
});

test('declining on Restream.io shows its own page with a way to try again', async () => {
  await consent('prompt');
  const page = await browser.newPage();
  await openForm(page);
  await fillValidForm(page);
  await Promise.all([page.waitForURL((url) => url.href.startsWith(world.restream)), page.click('#signup-submit')]);
  await page.getByRole('button', { name: /deny/i }).click();
  await page.waitForURL(/\/signup\/problem\?reason=denied$/);
  assert.equal(await page.textContent('h1'), 'You did not grant access');
  await page.click('#try-again');
  await page.waitForURL(`${world.fanout}/`);
  await page.close();
});
