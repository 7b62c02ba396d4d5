/**
 * The alert list: persons who need a secondary check, open ones first, with their snapshot,
 * reading, time and camera; each open one takes the secondary check's outcome. It updates live
 * (another staff member's acknowledgement shows at once) and exports the shift report as CSV.
 */
import { type AlertView, alertCard } from './alertCard.ts';
import {
  api,
  applyTranslations,
  liveSocket,
  onLanguageChange,
  renderTopBar,
  requireLogin,
} from './common.ts';

const me = await requireLogin();
renderTopBar(me, 'alerts');
applyTranslations();

const list = document.getElementById('alert-list')!;
const filter = document.getElementById('filter') as HTMLSelectElement;
const empty = document.getElementById('empty')!;
let alerts: AlertView[] = [];

async function load(): Promise<void> {
  const query =
    filter.value === 'open' ? '?acknowledged=false' : filter.value === 'done' ? '?acknowledged=true' : '';
  alerts = (await api<{ alerts: AlertView[] }>(`/api/alerts${query}`)).alerts;
  render();
}

function render(): void {
  empty.hidden = alerts.length > 0;
  // Unchanged cards stay as they are: a live update must not wipe a form being filled in.
  const shown = new Map(
    [...list.querySelectorAll<HTMLElement>('[data-alert-id]')].map((card) => [card.dataset.alertId, card]),
  );
  list.replaceChildren(
    ...alerts.map((alert) => {
      const card = shown.get(alert.id);
      return card && card.classList.contains('acknowledged') === alert.acknowledged
        ? card
        : alertCard(alert, () => void load());
    }),
  );
}

filter.addEventListener('change', () => void load());
liveSocket('/ws/live', {
  message: (event) => {
    const type = JSON.parse(String(event.data)).type;
    if (type === 'alert') setTimeout(() => void load(), 300);
    if (type === 'alert.acknowledged') void load();
  },
});
onLanguageChange(() => {
  list.replaceChildren();
  render();
});
await load();
