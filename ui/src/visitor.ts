/**
 * The visitor screen: a display facing the entrance, no login. One large instruction from the
 * visitor feed (/ws/visitor: codes only — never a temperature, never an image). Normal and
 * elevated look alike on purpose ("thank you" / "please see the staff"): a queue behind the
 * person learns nothing. `?lang=zh` or `?lang=en` picks the language.
 *
 * The admin's screen settings arrive on the same feed ({type:'settings'}): replacement texts per
 * language, colours, and whether the reading may be shown (only then does a result carry it).
 */
import { isMessageKey } from './catalogue.ts';
import { applyTranslations, currentLanguage, liveSocket, t, tCode } from './common.ts';

applyTranslations();
const message = document.getElementById('message')!;
const reading = document.getElementById('reading')!;
const camera = new URLSearchParams(location.search).get('camera');
let code = 'welcome';
let display: string | null = null;
interface ScreenSettings {
  showTemperature: boolean;
  texts: { en?: Record<string, string>; zh?: Record<string, string> };
  colours: { background?: string; text?: string; result?: string };
}
let settings: ScreenSettings = { showTemperature: false, texts: {}, colours: {} };
const RESULTS = new Set(['thank-you', 'see-staff', 'measure-again']);

function render(): void {
  // The screen's own codes are `visitor.*` in the catalogue; the rest are person prompt codes.
  const own = `visitor.${code}`;
  const key = isMessageKey(own) ? own : code;
  const custom = settings.texts[currentLanguage()]?.[key];
  message.textContent = custom || (isMessageKey(own) ? t(own) : tCode(code));
  reading.textContent = settings.showTemperature && display && RESULTS.has(code) ? display : '';
  document.body.dataset.code = code;
  document.body.classList.toggle('result', RESULTS.has(code));
}

/** Colours as CSS variables (CSSOM, which the CSP allows; no inline style attribute). */
function applyColours(): void {
  const style = document.body.style;
  const set = (name: string, value: string | undefined) =>
    value ? style.setProperty(name, value) : style.removeProperty(name);
  set('--visitor-bg', settings.colours.background);
  set('--visitor-text', settings.colours.text);
  set('--visitor-result', settings.colours.result);
}

liveSocket('/ws/visitor', {
  message: (event) => {
    const data = JSON.parse(String(event.data));
    if (data.type === 'settings') {
      settings = data as ScreenSettings;
      applyColours();
      render();
      return;
    }
    if (camera && data.cameraId !== camera) return;
    code = data.code;
    display = data.display ?? null;
    render();
  },
  close: () => {
    code = 'offline';
    render();
  },
});
render();
