/**
 * Settings (admin): screening thresholds and unit, retention, the visitor screen's texts, colours
 * and whether it may show the reading. The whole form is sent; the server keeps what changed,
 * checks it with the configuration's own rules and says what is in force now and what waits for a
 * restart. Its refusal sentence is shown as it is (it names the field and the allowed range).
 */
import { EN, isMessageKey, type MessageKey, ZH } from './catalogue.ts';
import {
  ApiError,
  api,
  applyTranslations,
  element,
  onLanguageChange,
  renderTopBar,
  requireLogin,
  t,
} from './common.ts';

interface Settings {
  screening: {
    unit: 'C' | 'F';
    mode: 'absolute' | 'relative';
    thresholdC: number;
    retestBandC: number;
    relative: { baselineSize: number; deltaC: number };
  };
  retention: { eventsDays: number; snapshotsDays: number; auditDays: number; minFreeDiskMB: number };
  visitor: {
    showTemperature: boolean;
    texts: { en?: Record<string, string>; zh?: Record<string, string> };
    colours: { background?: string; text?: string; result?: string };
  };
}
interface SettingsAnswer {
  settings: Settings;
  file?: string;
  restartNeeded?: string[];
  changed?: string[];
  applied?: string[];
}

/** What the visitor screen can say: its own instructions, then the person prompts it shows. */
const VISITOR_CODES = [
  'visitor.welcome',
  'visitor.camera-warming-up',
  'visitor.measuring',
  'visitor.thank-you',
  'visitor.see-staff',
  'visitor.offline',
  'come-closer',
  'remove-glasses',
  'one-at-a-time',
  'look-at-camera',
  'hold-still',
  'step-into-view',
  'measure-again',
  'camera-recalibrating',
] as const;

const me = await requireLogin('admin');
renderTopBar(me, 'settings');
applyTranslations();

const form = document.getElementById('settings-form') as HTMLFormElement;
const errorBox = document.getElementById('error')!;
const resultBox = document.getElementById('result')!;
const restartBox = document.getElementById('restart')!;
const fileBox = document.getElementById('file')!;
const textsBox = document.getElementById('texts')!;
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;

let file = '';
function renderFile(): void {
  fileBox.textContent = file ? t('settings.file', { file }) : '';
}
onLanguageChange(renderFile);

function renderRestart(paths: readonly string[]): void {
  restartBox.hidden = paths.length === 0;
  restartBox.textContent = t('settings.restart', { paths: paths.join(', ') });
}

/** The settings as last loaded or saved. */
let loaded: Settings | null = null;

function fill(answer: SettingsAnswer): void {
  loaded = answer.settings;
  const { screening, retention, visitor } = answer.settings;
  field('mode').value = screening.mode;
  field('thresholdC').value = String(screening.thresholdC);
  field('retestBandC').value = String(screening.retestBandC);
  field('deltaC').value = String(screening.relative.deltaC);
  field('unit').value = screening.unit;
  field('eventsDays').value = String(retention.eventsDays);
  field('snapshotsDays').value = String(retention.snapshotsDays);
  field('auditDays').value = String(retention.auditDays);
  field('minFreeDiskMB').value = String(retention.minFreeDiskMB);
  field('showTemperature').checked = visitor.showTemperature;
  field('background').value = visitor.colours.background ?? '#0d2433';
  field('text').value = visitor.colours.text ?? '#ffffff';
  field('result').value = visitor.colours.result ?? '#1f4e79';
  const rows = VISITOR_CODES.map((code) => {
    const input = (lang: 'en' | 'zh') =>
      element('input', {
        attrs: {
          type: 'text',
          maxlength: '200',
          'data-code': code,
          'data-lang': lang,
          lang: lang === 'zh' ? 'zh-CN' : 'en',
          placeholder: (lang === 'zh' ? ZH : EN)[code as MessageKey],
          'aria-label': `${code} (${lang})`,
          value: visitor.texts[lang]?.[code] ?? '',
        },
      });
    return element(
      'div',
      { className: 'text-row' },
      element('span', { className: 'code', text: isMessageKey(code) ? t(code) : code }),
      input('en'),
      input('zh'),
    );
  });
  textsBox.replaceChildren(...rows);
  file = answer.file ?? '';
  renderFile();
  renderRestart(answer.restartNeeded ?? []);
}

/** A number field as a number; an empty or unreadable field is sent as it is so the server names it. */
const numberOf = (name: string): number => {
  const value = field(name).valueAsNumber;
  return Number.isNaN(value) ? (field(name).value as unknown as number) : value;
};

function body(): Record<string, unknown> {
  const texts: { en: Record<string, string>; zh: Record<string, string> } = { en: {}, zh: {} };
  // Only texts that are set, or were set and are now cleared (""): an untouched empty field is not
  // a change, and must not fill the site file and the audit log with empty entries.
  for (const input of textsBox.querySelectorAll<HTMLInputElement>('input[data-code]')) {
    const lang = input.dataset.lang as 'en' | 'zh';
    const code = input.dataset.code!;
    const value = input.value.trim();
    if (value !== '' || loaded?.visitor.texts[lang]?.[code] !== undefined) texts[lang][code] = value;
  }
  return {
    screening: {
      mode: field('mode').value,
      thresholdC: numberOf('thresholdC'),
      retestBandC: numberOf('retestBandC'),
      unit: field('unit').value,
      relative: { deltaC: numberOf('deltaC') },
    },
    retention: {
      eventsDays: numberOf('eventsDays'),
      snapshotsDays: numberOf('snapshotsDays'),
      auditDays: numberOf('auditDays'),
      minFreeDiskMB: numberOf('minFreeDiskMB'),
    },
    visitor: {
      showTemperature: field('showTemperature').checked,
      colours: {
        background: field('background').value,
        text: field('text').value,
        result: field('result').value,
      },
      texts,
    },
  };
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.textContent = '';
  resultBox.textContent = '';
  try {
    const answer = await api<SettingsAnswer>('/api/settings', { method: 'PUT', body: body() });
    fill(answer);
    const changed = answer.changed ?? [];
    const restart = changed.filter((p) => !(answer.applied ?? []).includes(p));
    resultBox.textContent =
      changed.length === 0
        ? t('settings.nothing')
        : [
            t('settings.saved'),
            answer.applied?.length ? t('settings.applied', { paths: answer.applied.join(', ') }) : '',
            restart.length ? t('settings.restart', { paths: restart.join(', ') }) : '',
          ]
            .filter(Boolean)
            .join(' ');
  } catch (error) {
    errorBox.textContent =
      error instanceof ApiError ? t('error.request', { detail: error.message }) : String(error);
  }
});

fill(await api<SettingsAnswer>('/api/settings'));
