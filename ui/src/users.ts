/**
 * Users (admin): who may sign in and with which role, and a form to add one (staff view and
 * acknowledge; admins also calibrate, configure and manage users). The server checks the password
 * rule and audits the creation; its refusal sentence is shown as it is.
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

function render(): void {
  const head = element(
    'tr',
    {},
    ...(['login.username', 'users.role', 'users.created', 'users.createdBy'] as const).map((key) =>
      element('th', { i18n: key }),
    ),
  );
  const rows = users.map((user) =>
    element(
      'tr',
      { attrs: { 'data-user': user.username } },
      element('td', { text: user.username }),
      element('td', { text: t(`role.${user.role}`) }),
      element('td', { text: formatDateTime(user.createdAt) }),
      element('td', { text: user.createdBy ?? '—' }),
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
