/**
 * Users (admin): who may sign in and with which role, a form to add one (staff view and
 * acknowledge; admins also calibrate, configure and manage users), and per user: change the role,
 * disable / enable, reset the password, remove (with a confirming second click). The server checks
 * the password rule, refuses leaving no enabled admin, ends the sessions of a removed or disabled
 * user and audits every change; its refusal sentence is shown as it is.
 */
import {
  ApiError,
  api,
  applyTranslations,
  element,
  formatDateTime,
  onLanguageChange,
  renderTopBar,
  requireLogin,
  t,
} from './common.ts';

interface User {
  username: string;
  role: 'staff' | 'admin';
  disabled: boolean;
  createdAt: string;
  createdBy: string | null;
}

const me = await requireLogin('admin');
renderTopBar(me, 'users');
applyTranslations();
const listBox = document.getElementById('user-list')!;
const form = document.getElementById('user-form') as HTMLFormElement;
const errorBox = document.getElementById('error')!;
const resultBox = document.getElementById('result')!;
let users: User[] = [];

/** Runs an admin action; shows the server's sentence on refusal, the outcome on success. */
async function act(run: () => Promise<string>): Promise<void> {
  errorBox.textContent = '';
  resultBox.textContent = '';
  try {
    resultBox.textContent = await run();
  } catch (error) {
    errorBox.textContent =
      error instanceof ApiError ? t('error.request', { detail: error.message }) : String(error);
  }
  await load();
}

const userPath = (user: User) => `/api/users/${encodeURIComponent(user.username)}`;

function manageCell(user: User): HTMLTableCellElement {
  const toggle = element('button', {
    className: 'disable',
    i18n: user.disabled ? 'users.enable' : 'users.disable',
    attrs: { type: 'button' },
  });
  toggle.addEventListener('click', () =>
    act(async () => {
      await api(userPath(user), { method: 'PATCH', body: { disabled: !user.disabled } });
      return t(user.disabled ? 'users.enabledDone' : 'users.disabledDone', { user: user.username });
    }),
  );
  const password = element('input', {
    attrs: {
      type: 'password',
      name: 'new-password',
      autocomplete: 'new-password',
      'data-i18n-label': 'users.newPassword',
    },
  });
  password.setAttribute('aria-label', t('users.newPassword'));
  password.placeholder = t('users.newPassword');
  const reset = element(
    'form',
    { className: 'reset', attrs: { novalidate: '' } },
    password,
    element('button', { i18n: 'users.setPassword', attrs: { type: 'submit' } }),
  );
  reset.hidden = true;
  reset.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(async () => {
      await api(`${userPath(user)}/password`, { method: 'PUT', body: { password: password.value } });
      return t('users.passwordDone', { user: user.username });
    });
  });
  const showReset = element('button', {
    className: 'show-reset',
    i18n: 'users.resetPassword',
    attrs: { type: 'button' },
  });
  showReset.addEventListener('click', () => {
    reset.hidden = !reset.hidden;
    if (!reset.hidden) password.focus();
  });
  // Removal takes a second, explicit click naming the user.
  const remove = element('button', {
    className: 'remove danger',
    i18n: 'users.remove',
    attrs: { type: 'button' },
  });
  remove.addEventListener('click', () => {
    if (remove.dataset.confirm !== 'true') {
      remove.dataset.confirm = 'true';
      delete remove.dataset.i18n;
      remove.textContent = t('users.confirmRemove', { user: user.username });
      return;
    }
    void act(async () => {
      await api(userPath(user), { method: 'DELETE', body: {} });
      return t('users.removedDone', { user: user.username });
    });
  });
  return element(
    'td',
    { className: 'manage' },
    element('div', { className: 'actions' }, toggle, showReset, remove, reset),
  );
}

function roleCell(user: User): HTMLTableCellElement {
  const select = element('select', { attrs: { name: 'role', 'data-i18n-label': 'users.role' } });
  select.setAttribute('aria-label', t('users.role'));
  select.append(
    new Option(t('role.staff'), 'staff', false, user.role === 'staff'),
    new Option(t('role.admin'), 'admin', false, user.role === 'admin'),
  );
  select.addEventListener('change', () =>
    act(async () => {
      await api(userPath(user), { method: 'PATCH', body: { role: select.value } });
      return t('users.roleChanged', { user: user.username, role: t(`role.${select.value as User['role']}`) });
    }),
  );
  return element('td', {}, select);
}

function render(): void {
  const head = element(
    'tr',
    {},
    ...(
      [
        'login.username',
        'users.role',
        'users.state',
        'users.created',
        'users.createdBy',
        'users.manage',
      ] as const
    ).map((key) => element('th', { i18n: key })),
  );
  const rows = users.map((user) =>
    element(
      'tr',
      { attrs: { 'data-user': user.username, ...(user.disabled ? { class: 'disabled' } : {}) } },
      element('td', {
        text: user.username === me.username ? `${user.username} ${t('users.you')}` : user.username,
      }),
      roleCell(user),
      element('td', { className: 'state', i18n: user.disabled ? 'users.disabledState' : 'users.active' }),
      element('td', { text: formatDateTime(user.createdAt) }),
      element('td', { text: user.createdBy ?? '—' }),
      manageCell(user),
    ),
  );
  listBox.replaceChildren(
    element('table', { className: 'table' }, element('thead', {}, head), element('tbody', {}, ...rows)),
  );
}

async function load(): Promise<void> {
  users = await api<User[]>('/api/users');
  render();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.textContent = '';
  resultBox.textContent = '';
  const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  try {
    const user = await api<User>('/api/users', {
      method: 'POST',
      body: { username: field('username').trim(), password: field('password'), role: field('role') },
    });
    resultBox.textContent = t('users.created.done', { user: user.username, role: t(`role.${user.role}`) });
    form.reset();
    await load();
  } catch (error) {
    errorBox.textContent =
      error instanceof ApiError ? t('error.request', { detail: error.message }) : String(error);
  }
});
onLanguageChange(render);
await load();
