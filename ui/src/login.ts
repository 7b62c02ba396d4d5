/**
 * Sign-in, and on a fresh appliance the first-run setup (the one-time token from the appliance's
 * log creates the first admin; there is no default password).
 */
import type { Language } from './catalogue.ts';
import { ApiError, api, applyTranslations, currentLanguage, setLanguage, t } from './common.ts';

applyTranslations();
const loginForm = document.getElementById('login') as HTMLFormElement;
const setupForm = document.getElementById('setup') as HTMLFormElement;
const error = document.getElementById('error')!;
const language = document.getElementById('language') as HTMLSelectElement;
language.value = currentLanguage();
language.addEventListener('change', () => setLanguage(language.value as Language));

const next = (() => {
  const asked = new URLSearchParams(location.search).get('next');
  // Only paths on this appliance: never an open redirect.
  return asked?.startsWith('/') && !asked.startsWith('//') ? asked : 'index.html';
})();

const { setupRequired } = await api<{ setupRequired: boolean }>('/api/setup');
setupForm.hidden = !setupRequired;
loginForm.hidden = setupRequired;

function explain(e: unknown, fallback: 'login.wrong' | 'setup.tokenWrong'): string {
  if (!(e instanceof ApiError)) return t('error.offline');
  if (e.status === 401 || e.status === 403) return t(fallback);
  if (e.status === 429) return t('login.locked');
  return t('error.request', { detail: e.message });
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(loginForm);
  error.textContent = '';
  try {
    await api('/api/login', {
      method: 'POST',
      body: { username: String(data.get('username')).trim(), password: String(data.get('password')) },
    });
    location.href = next;
  } catch (e) {
    error.textContent = explain(e, 'login.wrong');
  }
});

setupForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(setupForm);
  error.textContent = '';
  if (data.get('password') !== data.get('confirm')) {
    error.textContent = t('setup.mismatch');
    return;
  }
  try {
    await api('/api/setup', {
      method: 'POST',
      body: {
        token: String(data.get('token')).trim(),
        username: String(data.get('username')).trim(),
        password: String(data.get('password')),
      },
    });
    location.href = 'index.html';
  } catch (e) {
    error.textContent = explain(e, 'setup.tokenWrong');
  }
});
