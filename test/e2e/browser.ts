/**
 * What the browser tests share: Debian's chromium driven by playwright-core (a browser download
 * does not work here), screenshots at desktop and phone width into docs/screenshots/, sign-in.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { EN, ZH } from '../../ui/src/catalogue.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');

/**
 * How long a page may take to show the server's answer or what it loaded (`expect.poll`, whose own
 * default is one second): on a machine busy with other work a request can take several.
 */
export const ANSWER = { timeout: 10_000 } as const;

export function launchBrowser(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    // playwright-core gives each launch a fresh profile directory of its own (a --user-data-dir).
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** `docs/screenshots/NAME-desktop.png` (1280 px) and `NAME-phone.png` (360 px, the full page). */
export async function shoot(target: Page, name: string): Promise<void> {
  for (const [label, width, height] of [
    ['desktop', 1280, 860],
    ['phone', 360, 740],
  ] as const) {
    await target.setViewportSize({ width, height });
    await target.mouse.wheel(0, -20_000);
    await target.waitForTimeout(400);
    await target.screenshot({
      path: path.join(SHOTS, `${name}-${label}.png`),
      fullPage: label === 'phone',
    });
  }
  await target.setViewportSize({ width: 1280, height: 860 });
}

/** Signs in on the login page and waits for the live page. */
export async function signIn(
  target: Page,
  base: string,
  who: { username: string; password: string },
): Promise<void> {
  await target.goto(`${base}/login.html`);
  await target.locator('#login').waitFor({ state: 'visible' });
  await target.fill('#login input[name=username]', who.username);
  await target.fill('#login input[name=password]', who.password);
  await target.click('#login button[type=submit]');
  await target.waitForURL(/index\.html$/);
}

/** English catalogue strings (4+ characters, differing from the Chinese) found in a page's text. */
export function englishCatalogueStrings(text: string): string[] {
  return Object.entries(EN)
    .filter(([key, value]) => value !== ZH[key as keyof typeof ZH] && value.length >= 4)
    .map(([, value]) => value.split(/[{]/)[0].trim())
    .filter((value) => value.length >= 4 && text.includes(value));
}
