/**
 * The visitor screen: a display facing the entrance, no login. One large instruction from the
 * visitor feed (/ws/visitor: codes only — never a temperature, never an image). Normal and
 * elevated look alike on purpose ("thank you" / "please see the staff"): a queue behind the
 * person learns nothing. `?lang=zh` or `?lang=en` picks the language.
 */
import { isMessageKey } from './catalogue.ts';
import { applyTranslations, liveSocket, t, tCode } from './common.ts';

applyTranslations();
const message = document.getElementById('message')!;
const camera = new URLSearchParams(location.search).get('camera');
let code = 'welcome';

function render(): void {
  // The screen's own codes are `visitor.*` in the catalogue; the rest are person prompt codes.
  const own = `visitor.${code}`;
  message.textContent = isMessageKey(own) ? t(own) : tCode(code);
  document.body.dataset.code = code;
}

liveSocket('/ws/visitor', {
  message: (event) => {
    const data = JSON.parse(String(event.data)) as { cameraId: string; code: string };
    if (camera && data.cameraId !== camera) return;
    code = data.code;
    render();
  },
  close: () => {
    code = 'offline';
    render();
  },
});
render();
