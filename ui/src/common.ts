/**
 * What every page shares: the language (per user, kept in the user's record on the appliance and
 * applied at sign-in on any device; the browser remembers the last one for the pages before
 * sign-in), translation of `data-i18n` elements, the JSON API helper, the signed-in user and the
 * top bar (the one navigation of every page).
 */
import { isMessageKey, LANGUAGES, type Language, type MessageKey, translate } from './catalogue.ts';

export interface Me {
  username: string;
  role: 'staff' | 'admin';
  /** The user's chosen language as the server keeps it (BCP 47), null when never chosen. */
  language?: 'en' | 'zh-CN' | null;
}

/** The server's language tags ↔ the catalogue's. */
const SERVER_LANGUAGE: Record<Language, 'en' | 'zh-CN'> = { en: 'en', zh: 'zh-CN' };
const fromServerLanguage = (tag: string | null | undefined): Language | null =>
  tag === 'zh-CN' ? 'zh' : tag === 'en' ? 'en' : null;

const LANGUAGE_KEY = 'canthus.language';
let language: Language = initialLanguage();
let user: Me | null = null;
const listeners: (() => void)[] = [];

function initialLanguage(): Language {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked && asked in LANGUAGES) return asked as Language;
  const stored = localStorage.getItem(LANGUAGE_KEY);
  if (stored && stored in LANGUAGES) return stored as Language;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function currentLanguage(): Language {
  return language;
}

/** Switches the page now; a signed-in user's choice is saved on the appliance (any device follows). */
export function setLanguage(next: Language): void {
  language = next;
  localStorage.setItem(LANGUAGE_KEY, next);
  applyTranslations();
  for (const listener of listeners) listener();
  if (user) {
    const saved = api<Me>('/api/me/language', { method: 'PUT', body: { language: SERVER_LANGUAGE[next] } });
    document.body.dataset.languageSaved = 'pending';
    saved.then(
      () => {
        document.body.dataset.languageSaved = SERVER_LANGUAGE[next];
      },
      () => {
        document.body.dataset.languageSaved = 'failed';
      },
    );
  }
}

/** Called after a language change, to re-render what a page draws itself. */
export function onLanguageChange(listener: () => void): void {
  listeners.push(listener);
}

export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  return translate(language, key, vars);
}

/** A server code (prompt, state) in words; an unknown code is shown as it is. */
export function tCode(key: string): string {
  return isMessageKey(key) ? t(key) : key;
}

/** Fills every `[data-i18n]` element's text (and `[data-i18n-label]`'s aria-label). */
export function applyTranslations(root: ParentNode = document): void {
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  for (const element of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    const key = element.dataset.i18n!;
    if (isMessageKey(key)) element.textContent = t(key);
  }
  for (const element of root.querySelectorAll<HTMLElement>('[data-i18n-label]')) {
    const key = element.dataset.i18nLabel!;
    if (isMessageKey(key)) element.setAttribute('aria-label', t(key));
  }
  const title = document.querySelector<HTMLElement>('[data-i18n-title]');
  if (title && isMessageKey(title.dataset.i18nTitle!))
    document.title = `${t(title.dataset.i18nTitle as MessageKey)} — canthus`;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** JSON in, JSON out; a refusal throws ApiError with the server's sentence. */
export async function api<T>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers: options.body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    cache: 'no-store',
    credentials: 'same-origin',
  });
  if (response.status === 204) return undefined as T;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, String(body.error ?? response.statusText), body);
  return body as T;
}

/** The signed-in user, or a trip to the sign-in page. */
export async function requireLogin(role: 'staff' | 'admin' = 'staff'): Promise<Me> {
  try {
    user = await api<Me>('/api/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      location.href = `login.html?next=${encodeURIComponent(location.pathname + location.search)}`;
      return new Promise(() => {});
    }
    throw error;
  }
  // The user's own choice, from the server: the same on every device they sign in on.
  const chosen = fromServerLanguage(user.language);
  if (chosen && !new URLSearchParams(location.search).has('lang')) {
    language = chosen;
    localStorage.setItem(LANGUAGE_KEY, chosen);
  }
  if (role === 'admin' && user.role !== 'admin') {
    document.body.replaceChildren(element('p', { className: 'refused', text: t('error.forbidden') }));
    return new Promise(() => {});
  }
  return user;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: { className?: string; text?: string; i18n?: MessageKey; attrs?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.i18n) {
    node.dataset.i18n = options.i18n;
    node.textContent = t(options.i18n);
  } else if (options.text !== undefined) node.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** The top bar: navigation for the user's role, language switch, who is signed in, log out. */
export function renderTopBar(
  me: Me,
  active: 'live' | 'alerts' | 'calibration' | 'registration' | 'settings' | 'health' | 'users',
): void {
  const bar = document.getElementById('topbar');
  if (!bar) return;
  const link = (href: string, key: MessageKey, name: string) =>
    element('a', { i18n: key, attrs: { href, ...(name === active ? { 'aria-current': 'page' } : {}) } });
  const nav = element(
    'nav',
    { attrs: { 'aria-label': 'canthus' } },
    link('index.html', 'nav.live', 'live'),
    link('alerts.html', 'nav.alerts', 'alerts'),
    link('visitor.html', 'nav.visitor', 'visitor'),
  );
  if (me.role === 'admin') {
    const registration = link('registration.html', 'nav.registration', 'registration');
    nav.append(
      link('calibrate.html', 'nav.calibration', 'calibration'),
      link('settings.html', 'nav.settings', 'settings'),
      link('health.html', 'nav.health', 'health'),
      link('users.html', 'nav.users', 'users'),
    );
    // Registration only where a camera has a visible stream.
    if (active === 'registration') nav.children[3].after(registration);
    else
      void api<{ cameras: { bispectrum: boolean }[] }>('/api/cameras')
        .then(({ cameras }) => {
          if (cameras.some((camera) => camera.bispectrum)) nav.children[3].after(registration);
        })
        .catch(() => {});
  }
  const select = element('select', { attrs: { id: 'language', 'data-i18n-label': 'nav.language' } });
  select.append(new Option('English', 'en'), new Option('中文', 'zh'));
  select.value = language;
  select.addEventListener('change', () => setLanguage(select.value as Language));
  const who = element('span', { className: 'who' });
  const renderWho = () => {
    who.textContent = t('nav.user', { user: me.username, role: t(`role.${me.role}`) });
  };
  renderWho();
  onLanguageChange(renderWho);
  const logout = element('button', { i18n: 'nav.logout', attrs: { type: 'button', id: 'logout' } });
  logout.addEventListener('click', async () => {
    await api('/api/logout', { method: 'POST', body: {} }).catch(() => {});
    location.href = 'login.html';
  });
  bar.replaceChildren(element('strong', { className: 'brand', i18n: 'app.name' }), nav, select, who, logout);
}

/** A WebSocket to this appliance that reconnects with backoff (1 s doubling to 15 s). */
export function liveSocket(
  path: string,
  handlers: { message: (data: MessageEvent) => void; open?: () => void; close?: () => void },
  binary = false,
): { close(): void; reopen(path: string): void } {
  let socket: WebSocket | null = null;
  let wait = 1000;
  let closed = false;
  let current = path;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${current}`);
    if (binary) ws.binaryType = 'blob';
    socket = ws;
    ws.onopen = () => {
      wait = 1000;
      handlers.open?.();
    };
    ws.onmessage = handlers.message;
    ws.onclose = (event) => {
      handlers.close?.();
      // The session ended (signed out elsewhere, user removed or disabled): back to sign-in.
      if (event.code === 4401) {
        location.href = `login.html?next=${encodeURIComponent(location.pathname + location.search)}`;
        return;
      }
      if (closed || socket !== ws) return;
      setTimeout(open, wait);
      wait = Math.min(15_000, wait * 2);
    };
  };
  open();
  return {
    close() {
      closed = true;
      socket?.close();
    },
    reopen(next) {
      current = next;
      const old = socket;
      socket = null;
      old?.close();
      open();
    },
  };
}

export function formatTime(iso: string | number): string {
  return new Date(iso).toLocaleTimeString(language === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}

export function formatDateTime(iso: string | number): string {
  return new Date(iso).toLocaleString(language === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false });
}
