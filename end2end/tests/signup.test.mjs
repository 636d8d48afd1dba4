// Signing up as a volunteer, in Chromium, against Fanout and the Restream.io stand-in.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWorld, watchErrors, screenshot } from './world.mjs';

const shared = useWorld();

/** Tells the stand-in how its authorize dialog answers the next visits. */
async function consent(mode) {
  const response = await fetch(`${shared.world.restream}/__standin/consent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode, user_id: shared.world.volunteerId }),
  });
  assert.ok(response.ok, `consent ${mode}: ${response.status}`);
}

async function openForm(page) {
  await page.goto(`${shared.world.fanout}/`);
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
  const page = await shared.browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors = watchErrors(page, shared.world.fanout);
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
  assert.equal(page.url(), `${shared.world.fanout}/`, 'nothing was sent');
  await screenshot(page, 'signup-form-errors');

  // Correcting clears each message as it is typed.
  await page.fill('#signup-email', 'ana@example.org');
  assert.equal(await page.$('#signup-email-error'), null);
  await page.fill('#signup-youtube', 'https://www.youtube.com/@AnaVolunteer');
  await page.check('#signup-consent');
  assert.equal(await page.$('#signup-error-summary'), null, 'no problem left');

  // On to Restream.io's dialog, and back.
  await Promise.all([page.waitForURL((url) => url.href.startsWith(shared.world.restream)), page.click('#signup-submit')]);
  await page.getByRole('button', { name: /allow/i }).click();
  await page.waitForURL(/\/manage\/[^?]+\?connected=1$/);
  assert.match(await page.textContent('#manage-welcome'), /You're connected, Ana Volunteer!/);
  const channels = await page.$$eval('#manage-channels li', (items) => items.map((li) => li.textContent));
  assert.ok(channels.length >= 1, 'the Restream channels are listed');
  assert.match(await page.textContent('#manage-status'), /Active/);
  assert.ok((await page.inputValue('#manage-link')).startsWith(`${shared.world.fanout}/manage/`), 'the manage link to keep');
  await screenshot(page, 'signup-success');
  assert.deepEqual(errors, [], 'no console errors');
  await page.close();
});

test('the same volunteer signing up again keeps one account', async () => {
  await consent('approve');
  const accounts = [];
  for (let round = 0; round < 2; round += 1) {
    const page = await shared.browser.newPage();
    await openForm(page);
    await fillValidForm(page);
    await Promise.all([page.waitForURL(/\/manage\/[^?]+\?connected=1$/), page.click('#signup-submit')]);
    assert.match(await page.textContent('#manage-welcome'), /You're connected/);
    accounts.push(accountOf(page.url()));
    await page.close();
  }
  assert.equal(accounts[1], accounts[0], 'the second sign-up updated the same account');
});

test('without JavaScript the whole sign-up still works', async () => {
  await consent('prompt');
  const context = await shared.browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${shared.world.fanout}/`);
  await page.fill('#signup-display_name', 'Ana Volunteer');
  await page.fill('#signup-email', 'not-an-address');
  await page.click('#signup-submit');
  // The server answers with the page again: what was typed, and the messages.
  assert.match(await page.textContent('#signup-error-summary'), /There are 3 problems/);
  assert.equal(await page.inputValue('#signup-display_name'), 'Ana Volunteer');
  assert.match(await page.textContent('#signup-email-error'), /e-mail address like name@example.org/);
  await page.fill('#signup-email', 'ana@example.org');
  await page.fill('#signup-twitch', 'https://www.twitch.tv/anavolunteer');
  await page.check('#signup-consent');
  await Promise.all([page.waitForURL((url) => url.href.startsWith(shared.world.restream)), page.click('#signup-submit')]);
  await page.getByRole('button', { name: /allow/i }).click();
  await page.waitForURL(/\/manage\/[^?]+\?connected=1$/);
  assert.match(await page.textContent('#manage-welcome'), /You're connected, Ana Volunteer!/);
  await page.click('#manage-pause');
  await page.waitForURL(/\?done=paused$/);
  assert.match(await page.textContent('#manage-status'), /Paused/);
  await page.click('#manage-resume');
  await page.waitForURL(/\?done=resumed$/);
  assert.match(await page.textContent('#manage-status'), /Active/);
  await context.close();
});

test('the form can be filled and sent with the keyboard alone', async () => {
  await consent('approve');
  const page = await shared.browser.newPage();
  await openForm(page);
  await page.focus('#signup-display_name');
  await page.keyboard.type('Ana Volunteer');
  await page.keyboard.press('Tab');
  await page.keyboard.type('ana@example.org');
  await page.keyboard.press('Tab');
  await page.keyboard.type('https://www.youtube.com/@AnaVolunteer');
  for (const field of ['twitch', 'x', 'facebook', 'consent']) {
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), `signup-${field}`, 'Tab follows the form order');
  }
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('#signup-consent'), true);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'signup-submit');
  await Promise.all([page.waitForURL(/\/manage\/[^?]+\?connected=1$/), page.keyboard.press('Enter')]);
  await page.close();
});

test('declining on Restream.io shows its own page with a way to try again', async () => {
  await consent('prompt');
  const page = await shared.browser.newPage();
  await openForm(page);
  await fillValidForm(page);
  await Promise.all([page.waitForURL((url) => url.href.startsWith(shared.world.restream)), page.click('#signup-submit')]);
  await page.getByRole('button', { name: /deny/i }).click();
  await page.waitForURL(/\/signup\/problem\?reason=denied$/);
  assert.equal(await page.textContent('h1'), 'You did not grant access');
  await page.click('#try-again');
  await page.waitForURL(`${shared.world.fanout}/`);
  await page.close();
});
