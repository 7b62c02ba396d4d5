/**
 * The bi-spectrum pages in a real browser (Debian's chromium via playwright-core) against an
 * appliance with a bi-spectrum camera replayed through GStreamer: an admin marks six point pairs on
 * the thermal and visible stills, sees each pair's error and the overall figures, commits (audited,
 * in the history); the live page then offers the visible and blend views and draws their frames.
 * Screenshots of the registration page and the blended live view go to docs/screenshots/.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../appliance/config/load.ts';
import { type Appliance, startAppliance } from '../../appliance/main.ts';
import { applyHomography } from '../../calibration/homography.ts';
import { buildUi } from '../../scripts/build-ui.ts';
import { EN, ZH } from '../../ui/src/catalogue.ts';
import { markedPairs, THERMAL, TRUE_H, VISIBLE, writeBispectrumSite } from '../helpers/bispectrumScene.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';
import { ANSWER, englishCatalogueStrings, HAS_CHROMIUM, launchBrowser, shoot, signIn } from './browser.ts';

// Not 'admin': the Chinese check below must not find the English role word in a user name.
const ADMIN = { username: 'director-zhou', password: 'two lenses, one door' };

describe.skipIf(!HAS_CHROMIUM)('bi-spectrum registration and views in chromium', () => {
  const root = tempDir('canthus-e2e-bispectrum-');
  let appliance: Appliance;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    const dataDir = await writeBispectrumSite(root, { seconds: 120 });
    await buildUi();
    const loaded = loadConfig({ dataDir, port: 0 });
    loaded.config.server.host = '127.0.0.1';
    appliance = await startAppliance({ loaded });
    base = `http://127.0.0.1:${appliance.port}`;
    const token = readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim();
    await request(appliance.server!)
      .post('/api/setup')
      .send({ token, ...ADMIN })
      .expect(201);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-GB' });
    page = await context.newPage();
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await signIn(page, base, ADMIN);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await appliance?.stop();
  });

  it('marks point pairs on both stills, shows the error per pair and overall, and commits', async () => {
    await page.goto(`${base}/registration.html`);
    await expect(page.locator('nav a[href="registration.html"][aria-current="page"]').count()).resolves.toBe(
      1,
    );
    await page.locator('#thermal-still[data-loaded="true"]').waitFor({ timeout: 20_000 });
    await page.locator('#visible-still[data-loaded="true"]').waitFor({ timeout: 20_000 });
    await expect(page.locator('#in-force').textContent()).resolves.toBe(EN['registration.none']);
    // A point in an image's own pixels → where to click on the page.
    const clickAt = async (image: 'thermal' | 'visible', p: { x: number; y: number }) => {
      const box = (await page.locator(`#${image}-still`).boundingBox())!;
      const size = image === 'thermal' ? THERMAL : VISIBLE;
      await page.mouse.click(
        box.x + (p.x / size.width) * box.width,
        box.y + (p.y / size.height) * box.height,
      );
    };
    const pairs = markedPairs();
    for (const [i, pair] of pairs.entries()) {
      // Either order makes a pair: thermal first for even pairs, visible first for odd ones.
      if (i % 2 === 0) {
        await clickAt('thermal', pair.thermal);
        await expect(page.locator('#prompt').textContent()).resolves.toBe(EN['registration.waitVisible']);
        await clickAt('visible', pair.visible);
      } else {
        await clickAt('visible', pair.visible);
        await expect(page.locator('#prompt').textContent()).resolves.toBe(EN['registration.waitThermal']);
        await clickAt('thermal', pair.thermal);
      }
    }
    await expect(page.locator('#pairs tbody tr').count()).resolves.toBe(6);
    await page.locator('#figures[data-passed="true"]').waitFor(ANSWER);
    // Each pair's error is shown, small for points clicked where they belong.
    const errors = (await page.locator('#pairs tbody td.error').allTextContents()).map(Number);
    expect(errors).toHaveLength(6);
    for (const error of errors) expect(error).toBeLessThan(2);
    const rms = Number(await page.locator('#figures').getAttribute('data-rms'));
    expect(rms).toBeGreaterThan(0);
    expect(rms).toBeLessThan(2);

    // A seventh pair misplaced by 10 thermal px: its error is flagged and the fit is over the limits.
    const visibleSeventh = { x: 100, y: 200 };
    const trueThermal = applyHomography(TRUE_H, visibleSeventh);
    await clickAt('thermal', { x: trueThermal.x + 10, y: trueThermal.y });
    await clickAt('visible', visibleSeventh);
    await page.locator('#figures[data-passed="false"]').waitFor(ANSWER);
    await expect(page.locator('#pairs tbody tr[data-pair="7"].over').count()).resolves.toBe(1);
    await expect(page.locator('#fit-notes').textContent()).resolves.toContain('pairs[6]');
    await page.locator('#pairs tbody tr[data-pair="7"] button').click();
    await page.locator('#figures[data-passed="true"]').waitFor(ANSWER);
    await shoot(page, 'registration');

    await page.click('#commit');
    await expect
      .poll(() => page.locator('#result').textContent(), ANSWER)
      .toContain('Registration committed');
    await page.locator('#history tbody tr').first().waitFor();
    await expect(page.locator('#history tbody tr').first().textContent()).resolves.toContain(ADMIN.username);
    await expect(page.locator('#in-force').textContent()).resolves.toContain(`by ${ADMIN.username}`);
    const audit = (await (await page.request.get(`${base}/api/audit?limit=20`)).json()).entries as {
      action: string;
      target: string;
    }[];
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'registration committed', target: 'door-1' }),
    );
  });

  it('offers the visible and blend views on the live page for the bi-spectrum camera only', async () => {
    await page.goto(`${base}/index.html`);
    const canvas = page.locator('#video');
    const frames = async () => Number((await canvas.getAttribute('data-frames')) ?? 0);
    await waitFor(async () => (await frames()) >= 2, 20_000, 'thermal frames');
    await expect(page.locator('#view-control').isVisible()).resolves.toBe(true);
    await expect(page.locator('#view option').allTextContents()).resolves.toEqual([
      EN['view.thermal'],
      EN['view.visible'],
      EN['view.blend'],
    ]);
    const picture = () => canvas.evaluate((c: { toDataURL(): string }) => c.toDataURL());
    const thermal = await picture();
    for (const view of ['visible', 'blend'] as const) {
      const before = await frames();
      await page.selectOption('#view', view);
      try {
        await waitFor(async () => (await frames()) >= before + 3, 20_000, `${view} frames`);
      } catch (error) {
        // These views need thermal frames with a visible partner: say how the pairing went.
        const camera = appliance.health().cameras.find((c) => c.id === 'door-1');
        const video = appliance.health().features.find((f) => f.name === 'video');
        throw new Error(
          `${(error as Error).message}; visible stream ${JSON.stringify((camera as { visible?: unknown }).visible)}; video ${JSON.stringify(video?.detail)}`,
        );
      }
      expect(await picture()).not.toBe(thermal);
    }
    // Visible: the camera's own size; the palette and range do not apply.
    await page.selectOption('#view', 'visible');
    await waitFor(
      async () => (await canvas.getAttribute('width')) === String(VISIBLE.width),
      10_000,
      'the visible frame size',
    );
    await expect(page.locator('#palette').isDisabled()).resolves.toBe(true);
    await page.selectOption('#view', 'blend');
    await waitFor(async () => (await canvas.getAttribute('width')) === '512', 10_000, 'the blend frame size');
    await shoot(page, 'live-blend');
    // The thermal-only camera offers no other view.
    await page.selectOption('#camera', 'lobby-1');
    await page.locator('#view-control').waitFor({ state: 'hidden' });
  });

  it('shows the registration page in Chinese without an English catalogue string', async () => {
    await page.goto(`${base}/registration.html`);
    await page.locator('#history tbody tr').first().waitFor();
    await page.selectOption('#language', 'zh');
    await page.locator('body[data-language-saved="zh-CN"]').waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toContain(ZH['registration.title']);
    expect(englishCatalogueStrings(text)).toEqual([]);
  });
});
