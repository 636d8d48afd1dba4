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

test('the browser reads the addresses people type as the server does', async () => {
  // The browser parses URLs with its own `URL` (no second URL parser in the WASM), the server
  // with the `url` crate: both follow the WHATWG URL Standard. Each round puts one address in
  // each field; the browser's message as the volunteer leaves the field must be the server's
  // when the form is sent without JavaScript.
  const rounds = [
    { youtube: 'WWW.YOUTUBE.COM/@Ana/videos', twitch: 'twitch.tv/Ana_V', x: 'https://mobile.twitter.com/jack', facebook: 'https://www.facebook.com/profile.php?id=123456' },
    { youtube: 'https://www.yоutube.com/@ana', twitch: 'https://www.twitch.tv/ana/videos', x: 'x.com/home', facebook: 'https://facebook.com/profile.php?id=12%33' },
    { youtube: 'https://youtube.com:443/channel/UCabcdefghijklmnopqrstuv', twitch: 'https://twitch.tv./anavolunteer', x: 'https://x.com/a b', facebook: 'https://fb.com/profile.php?x=1&id=abc' },
    { youtube: 'https://exa mple.com/@ana', twitch: 'ftp://twitch.tv/anavolunteer', x: 'https://X.COM/Jack_', facebook: 'https://m.facebook.com/pages/Some-Page/123' },
  ];
  const fields = Object.keys(rounds[0]);
  const message = async (page, field) => (await page.$(`#signup-${field}-error`)) && (await page.textContent(`#signup-${field}-error`));

  const browserSays = [];
  const page = await shared.browser.newPage();
  await openForm(page);
  for (const round of rounds) {
    const said = {};
    for (const field of fields) {
      await page.fill(`#signup-${field}`, round[field]);
      await page.press(`#signup-${field}`, 'Tab');
      said[field] = await message(page, field);
    }
    browserSays.push(said);
  }
  await page.close();

  const context = await shared.browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  for (const [index, round] of rounds.entries()) {
    await plain.goto(`${shared.world.fanout}/`);
    for (const field of fields) await plain.fill(`#signup-${field}`, round[field]);
    // No name and no consent: the server answers with the form and its messages.
    await plain.click('#signup-submit');
    await plain.waitForSelector('#signup-error-summary');
    for (const field of fields) {
      assert.equal(browserSays[index][field], await message(plain, field), `${field} ${JSON.stringify(round[field])}`);
    }
  }
  await context.close();
  const accepted = browserSays.flatMap((said) => fields.filter((field) => said[field] === null)).length;
  assert.ok(accepted >= 4 && accepted <= 12, `some addresses accepted and some refused (${accepted} of 16 accepted)`);
});
