// Shared helpers of the browser tests: the test world (the Rust `testworld` binary, which starts
// Fanout and the stand-ins on loopback) and Debian's Chromium driven by playwright-core.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifactsDir = path.join(here, '..', 'artifacts');

function testworldBinary() {
  if (process.env.TESTWORLD_BIN) return process.env.TESTWORLD_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(homedir(), '.cache', 'fanout', 'target');
  return path.join(target, 'debug', 'testworld');
}

/**
 * Starts the test world; resolves to its addresses plus `stop()`. `{ bare: true }` starts
 * Fanout with no configuration at all (no Restream app, no watched channel); `{ live: true }`
 * starts it during a live, with two volunteers connected and their sink under `world.live`;
 * `{ demo: true }` is `scripts/serve --demo`'s world (the live one with three volunteers).
 */
export async function startWorld({ bare = false, live = false, demo = false } = {}) {
  const args = bare ? ['--bare'] : demo ? ['--demo'] : live ? ['--live'] : [];
  const child = spawn(testworldBinary(), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the test world did not start within 90 s')), 90_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the test world exited early (${code})`)));
    lines.once('line', (line) => { clearTimeout(timer); resolve(line); });
  });
  const world = JSON.parse(first);
  world.stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.stdin.end(); // the world tears itself down when its stdin closes
  });
  return world;
}

/** Launches Debian's Chromium headless, with the flags this closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
}

/**
 * Records console errors and uncaught exceptions. With `origin`, only those of pages and
 * resources on that origin count (a test that visits the Restream stand-in judges Fanout alone).
 */
export function watchErrors(page, origin) {
  const errors = [];
  const ours = (url) => !origin || !url || url.startsWith(origin);
  page.on('console', (message) => {
    if (message.type() === 'error' && ours(message.location().url)) errors.push(`${message.text()} (${message.location().url}, on ${page.url()})`);
  });
  page.on('pageerror', (error) => { if (ours(page.url())) errors.push(`uncaught: ${error.message}`); });
  return errors;
}

/** Saves a full-page screenshot under end2end/artifacts/. */
export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}

/**
 * Stands a world and a browser up before a file's tests and tears both down after them;
 * returns the object whose `world` and `browser` the tests use.
 */
export function useWorld(options) {
  const shared = { world: undefined, browser: undefined };
  before(async () => {
    shared.world = await startWorld(options);
    shared.browser = await launchBrowser();
  });
  after(async () => {
    await shared.browser?.close();
    await shared.world?.stop();
  });
  return shared;
}

/** Waits until `check()` resolves truthy, polling; fails with `what` after `seconds`. */
export async function eventually(seconds, what, check) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not within ${seconds} s: ${what}`);
}

/** Signs the test world's admin in on a new page and waits for the dashboard to hydrate. */
export async function signInAdmin(browser, world) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = watchErrors(page, world.fanout);
  await page.goto(`${world.fanout}/admin/login`);
  await page.fill('input[name="name"]', world.admin.name);
  await page.fill('input[name="password"]', world.admin.password);
  await page.click('#sign-in');
  await page.waitForURL(`${world.fanout}/admin`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 20_000 });
  return { page, errors };
}

/** The destinations table's row of `name`. */
export function destinationRow(page, name) {
  return page.locator('#destinations tbody tr', { hasText: name });
}
