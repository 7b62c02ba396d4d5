/**
 * The alert list: persons who need a secondary check, open ones first, with their snapshot,
 * reading, time and camera; each open one takes the secondary check's outcome. It updates live
 * (another staff member's acknowledgement shows at once) and exports the shift report as CSV.
 * Filters: open/acknowledged, camera and a time window (the API's acknowledged, camera, from, to).
 */
import { type AlertView, alertCard } from './alertCard.ts';
import {
  ApiError,
  api,
  applyTranslations,
  liveSocket,
  onLanguageChange,
  renderTopBar,
  requireLogin,
  t,
} from './common.ts';

const me = await requireLogin();
renderTopBar(me, 'alerts');
applyTranslations();

const list = document.getElementById('alert-list')!;
const filter = document.getElementById('filter') as HTMLSelectElement;
const empty = document.getElementById('empty')!;
let alerts: AlertView[] = [];

const cameraFilter = document.getElementById('camera-filter') as HTMLSelectElement;
const fromInput = document.getElementById('from') as HTMLInputElement;
const toInput = document.getElementById('to') as HTMLInputElement;
const filterError = document.getElementById('filter-error')!;

async function load(): Promise<void> {
  const query = new URLSearchParams();
  if (filter.value === 'open') query.set('acknowledged', 'false');
  if (filter.value === 'done') query.set('acknowledged', 'true');
  if (cameraFilter.value) query.set('camera', cameraFilter.value);
  // datetime-local is the browser's local time; the API takes ISO 8601 instants.
  if (fromInput.value) query.set('from', new Date(fromInput.value).toISOString());
  if (toInput.value) query.set('to', new Date(toInput.value).toISOString());
  filterError.textContent = '';
  try {
    alerts = (await api<{ alerts: AlertView[] }>(`/api/alerts${query.size ? `?${query}` : ''}`)).alerts;
  } catch (error) {
    // e.g. "to: must be after from": the server's sentence, the list left as it was.
    if (!(error instanceof ApiError)) throw error;
    filterError.textContent = t('error.request', { detail: error.message });
    return;
  }
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

for (const control of [filter, cameraFilter, fromInput, toInput])
  control.addEventListener('change', () => void load());
for (const camera of (await api<{ cameras: { id: string; name: string }[] }>('/api/cameras')).cameras)
  cameraFilter.append(new Option(camera.name, camera.id));
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
