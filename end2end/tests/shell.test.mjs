// The page shell: rendered on the server, hydrated in the browser, usable without JavaScript.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useWorld, watchErrors, screenshot } from './world.mjs';

const shared = useWorld({ bare: true });

test('the shell hydrates: its controls work, its links load the pages, and the console is clean', async () => {
  const page = await shared.browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors = watchErrors(page);
  await page.goto(`${shared.world.fanout}/`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });

  // Styles are loaded: the notice has its amber background, the phone layout folds the menu.
  const noticeBackground = await page.$eval('#setup-notice', (el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(noticeBackground, 'rgba(0, 0, 0, 0)', 'the Tailwind stylesheet applies');
  assert.equal(await page.isVisible('#site-nav'), false, 'the menu is folded on a phone');

  // The menu button only works once hydrated.
  await page.click('#menu-button');
  assert.equal(await page.isVisible('#site-nav'), true);
  assert.equal(await page.getAttribute('#menu-button', 'aria-expanded'), 'true');
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#site-nav'), false, 'Escape folds the menu');

  // The setup notice reveals what to configure.
  assert.equal(await page.isVisible('#setup-details'), false);
  await page.click('#setup-notice summary');
  assert.equal(await page.isVisible('#setup-details'), true);
  const details = await page.textContent('#setup-details');
  assert.match(details, /RESTREAM_CLIENT_ID/);
  assert.match(details, /FANOUT_YOUTUBE_CHANNEL/);
  await screenshot(page, 'shell-phone');

  // The Admin link is a full page load, so the server's gate decides: no session here, so
  // it lands on the sign-in page.
  await page.click('#menu-button');
  await page.click('#site-nav >> text=Admin');
  await page.waitForURL(`${shared.world.fanout}/admin/login`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  assert.equal(await page.textContent('h1'), 'Admin sign-in');
  assert.equal(await page.title(), 'Admin sign-in · Fanout');

  // Back to /: a link loads the page the server renders, hydrated again. (Islands mode has no
  // client-side router; Leptos' islands router would fetch and diff pages but skips islands,
  // so the dashboard's would keep stale rows after a post. The site's files are cached by name,
  // so a load costs the page's compressed HTML, a few KiB.)
  await page.click('#menu-button');
  await page.click('#site-nav >> text=Sign up');
  await page.waitForURL(`${shared.world.fanout}/`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  assert.match(await page.textContent('h1'), /Carry our lives to your channels/);
  assert.equal(await page.title(), 'Sign up · Fanout');
  assert.equal(await page.getAttribute('#site-nav a[href="/"]', 'aria-current'), 'page', 'the link to the page shown is marked');

  assert.deepEqual(errors, [], 'no console errors');
  await page.close();
});

test('without JavaScript the pages render whole and stay usable, on a wide screen and a phone', async () => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const context = await shared.browser.newContext({ javaScriptEnabled: false, viewport });
    const page = await context.newPage();
    const response = await page.goto(`${shared.world.fanout}/`);
    assert.equal(response.status(), 200);
    assert.match(await page.textContent('h1'), /Carry our lives to your channels/);
    assert.match(await page.textContent('#setup-notice'), /not fully configured yet/);
    assert.equal(await page.isVisible('#site-nav'), true, `the navigation shows at ${viewport.width}px`);
    assert.equal(await page.isVisible('#menu-button'), false, 'no menu button that could not work');
    await page.click('#setup-notice summary');
    assert.equal(await page.isVisible('#setup-details'), true, 'the notice opens without scripting');
    assert.equal(await page.getAttribute('html', 'data-hydrated'), null, 'and nothing hydrated');
    await page.click('#site-nav >> text=Admin');
    assert.equal(await page.textContent('h1'), 'Admin sign-in', 'the admin link leads to the sign-in');
    if (viewport.width > 800) await screenshot(page, 'shell-desktop-no-js');
    await context.close();
  }
});
