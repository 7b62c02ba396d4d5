/**
 * The UI's one catalogue: every prompt code the appliance can publish has words in both languages,
 * English prompt wording is the appliance's own, no Chinese entry is left in English, and the UI
 * sources type-check against the DOM library (the root project leaves ui/src out).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMPT_MESSAGES } from '../../appliance/core/persons.ts';
import { EN, translate, ZH } from '../../ui/src/catalogue.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('UI catalogue', () => {
  it('words every prompt code in English (the appliance wording) and Chinese', () => {
    for (const [code, words] of Object.entries(PROMPT_MESSAGES)) {
      expect(EN[code as keyof typeof EN]).toBe(words);
      expect(ZH[code as keyof typeof ZH]).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('has the same keys in both languages and no untranslated Chinese entry', () => {
    expect(Object.keys(ZH).sort()).toEqual(Object.keys(EN).sort());
    const untranslated = Object.keys(EN).filter(
      (key) => key !== 'app.name' && ZH[key as keyof typeof ZH] === EN[key as keyof typeof EN],
    );
    expect(untranslated).toEqual([]);
  });

  it('fills placeholders', () => {
    expect(translate('zh', 'live.openAlerts', { count: 3 })).toBe('未处理告警：3');
    expect(translate('en', 'nav.user', { user: 'li', role: 'staff' })).toBe('Signed in as li (staff)');
  });

  it('keys every data-i18n attribute of the pages to a catalogue entry', () => {
    const pages = readdirSync(path.join(ROOT, 'ui')).filter(
      (f) => f.endsWith('.html') && f !== 'status.html',
    );
    expect(pages.length).toBeGreaterThanOrEqual(5);
    for (const page of pages) {
      const html = readFileSync(path.join(ROOT, 'ui', page), 'utf8');
      expect(html, page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      for (const match of html.matchAll(/data-i18n(?:-label|-title)?="([^"]+)"/g))
        expect(Object.hasOwn(EN, match[1]), `${page}: ${match[1]}`).toBe(true);
    }
  });

  it('type-checks the UI sources against the DOM library', () => {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'ui'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  }, 60_000);
});
