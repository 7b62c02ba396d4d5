/**
 * The staff live page: annotated video on a canvas (binary JPEG frames over /ws/video: MJPEG in an
 * <img> freezes on iOS Safari), the current person's reading in large type, open alerts with the
 * secondary-check form and a sound, the last readings, and camera / reference / uplink status with
 * an "uncalibrated — do not screen" banner whenever a reference is not stable.
 */
import { type AlertView, alertCard, DECISION_ICON, inUnit } from './alertCard.ts';
import type { MessageKey } from './catalogue.ts';
import {
  api,
  applyTranslations,
  element,
  formatTime,
  liveSocket,
  onLanguageChange,
  renderTopBar,
  requireLogin,
  t,
  tCode,
} from './common.ts';

interface Screening {
  kind: 'new' | 'update' | 'end';
  personId: string;
  cameraId: string;
  at: number;
  state: string;
  prompts: string[];
  decision: 'normal' | 'elevated' | 'retest' | 'invalid';
  display: string | null;
}

interface CameraStatus {
  persons: {
    personId: string;
    state: string;
    prompts: string[];
    decision: Screening['decision'] | null;
    display: string | null;
  }[];
  id: string;
  name: string;
  state: string;
  reason: string;
  reference: { state: string; reason: string; measuredC: number | null } | null;
}

interface Status {
  cameras: CameraStatus[];
  uplink: { state: string; reason: string | null } | null;
  alertsOpen: number;
}

interface Reading {
  at: number;
  display: string | null;
  decision: Screening['decision'];
  cameraId: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const me = await requireLogin();
renderTopBar(me, 'live');
applyTranslations();

const canvas = $<HTMLCanvasElement>('video');
const cameraSelect = $<HTMLSelectElement>('camera');
const paletteSelect = $<HTMLSelectElement>('palette');
const banner = $('banner');
const statusbar = $('statusbar');
const current = $('current');
const alertState = $('alert-state');
const soundButton = $<HTMLButtonElement>('sound');
const readingsList = $('readings');
const alertsBox = $('alerts');

interface CameraInfo {
  id: string;
  name: string;
  /** The views this user may ask for (visible and blend only on bi-spectrum cameras, where allowed). */
  views: ('thermal' | 'visible' | 'blend')[];
  registered: boolean;
}
const cameras = await api<{ cameras: CameraInfo[]; palettes: string[] }>('/api/cameras');
for (const camera of cameras.cameras) cameraSelect.append(new Option(camera.name, camera.id));
const storedPalette = localStorage.getItem('canthus.palette');
const renderPaletteOptions = () => {
  const chosen = paletteSelect.value || storedPalette || 'iron';
  paletteSelect.replaceChildren(
    ...cameras.palettes.map((p) => new Option(t(`palette.${p}` as MessageKey), p, false, p === chosen)),
  );
};
renderPaletteOptions();

// ---- video
let frames = 0;
let lastFrameAt = 0;
// A picture that stopped (camera or visible stream down, a view without frames) is greyed out
// rather than left looking live.
setInterval(() => {
  if (lastFrameAt > 0 && Date.now() - lastFrameAt > 3000) canvas.classList.add('off');
}, 1000);
let drawing = false;
const context = canvas.getContext('2d')!;
const rangeSelect = $<HTMLSelectElement>('range');
const RANGES = ['auto', '20..40', '28..40', '30..38'];
const renderRangeOptions = () => {
  const chosen = rangeSelect.value || localStorage.getItem('canthus.range') || 'auto';
  rangeSelect.replaceChildren(
    ...RANGES.map(
      (r) =>
        new Option(r === 'auto' ? t('range.auto') : `${r.replace('..', '–')} °C`, r, false, r === chosen),
    ),
  );
};
renderRangeOptions();
// Bi-spectrum cameras: thermal, visible or blend, offered only when the camera and the site allow.
const viewSelect = $<HTMLSelectElement>('view');
const viewControl = $('view-control');
const viewNote = $('view-note');
const renderViewOptions = () => {
  const camera = cameras.cameras.find((c) => c.id === cameraSelect.value);
  const views = camera?.views ?? ['thermal'];
  const wanted = viewSelect.value || localStorage.getItem('canthus.view') || 'thermal';
  const chosen = views.includes(wanted as 'thermal') ? wanted : 'thermal';
  viewSelect.replaceChildren(...views.map((v) => new Option(t(`view.${v}`), v, false, v === chosen)));
  viewSelect.value = chosen;
  viewControl.hidden = views.length < 2;
  // The visible view has no palette or colour range; it boxes persons only with a registration.
  paletteSelect.disabled = chosen === 'visible';
  rangeSelect.disabled = chosen === 'visible';
  viewNote.hidden = !(chosen === 'visible' && camera && !camera.registered);
};
renderViewOptions();
const videoPath = () =>
  `/ws/video?camera=${encodeURIComponent(cameraSelect.value)}&palette=${encodeURIComponent(paletteSelect.value)}&range=${encodeURIComponent(rangeSelect.value)}&view=${encodeURIComponent(viewSelect.value || 'thermal')}`;
const video = liveSocket(
  videoPath(),
  {
    message: async (event) => {
      // A frame arriving while the previous one is still being decoded is dropped: latest wins.
      if (drawing) return;
      drawing = true;
      try {
        const bitmap = await createImageBitmap(event.data as Blob);
        if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
          canvas.width = bitmap.width;
          canvas.height = bitmap.height;
        }
        context.drawImage(bitmap, 0, 0);
        bitmap.close();
        frames++;
        lastFrameAt = Date.now();
        canvas.dataset.frames = String(frames);
        canvas.classList.remove('off');
      } finally {
        drawing = false;
      }
    },
    close: () => canvas.classList.add('off'),
  },
  true,
);
const reopenVideo = () => {
  renderViewOptions();
  localStorage.setItem('canthus.palette', paletteSelect.value);
  localStorage.setItem('canthus.range', rangeSelect.value);
  localStorage.setItem('canthus.view', viewSelect.value);
  video.reopen(videoPath());
  renderStatus();
  renderCurrent();
};
cameraSelect.addEventListener('change', reopenVideo);
paletteSelect.addEventListener('change', reopenVideo);
rangeSelect.addEventListener('change', reopenVideo);
viewSelect.addEventListener('change', reopenVideo);

// ---- status and banner
let status: Status | null = null;
/** The decision settings in force (sent on connect and after an admin changes them). */
interface ScreeningShown {
  mode: 'absolute' | 'relative';
  thresholdC: number;
  retestBandC: number;
  deltaC: number;
}
let screening: ScreeningShown | null = null;
let unit: 'C' | 'F' = 'C';

/** "≥ 37.5 °C" or "+1.0 °C over the baseline": what counts as elevated right now. */
function thresholdText(s: ScreeningShown): string {
  if (s.mode === 'relative')
    return t('status.thresholdRelative', {
      delta: unit === 'F' ? `${((s.deltaC * 9) / 5).toFixed(1)} °F` : `${s.deltaC.toFixed(1)} °C`,
    });
  return `≥ ${inUnit(s.thresholdC, unit)}`;
}
function renderStatus(): void {
  const camera = status?.cameras.find((c) => c.id === cameraSelect.value) ?? status?.cameras[0];
  const referenceState = camera?.reference?.state ?? 'none';
  // Until the appliance says otherwise, the reference is not known to be stable: warn.
  banner.hidden = referenceState === 'stable';
  const item = (label: MessageKey, value: string, state: string, title = '') =>
    element(
      'span',
      { className: `status-item state-${state}`, attrs: title ? { title } : {} },
      element('span', { className: 'label', text: `${t(label)}: ` }),
      element('strong', { text: value }),
    );
  if (!camera) {
    statusbar.replaceChildren(element('span', { i18n: 'live.connecting' }));
    return;
  }
  const reference = camera.reference;
  const referenceText =
    tCode(`reference.${referenceState}`) +
    (reference?.measuredC != null && referenceState === 'stable'
      ? ` (${reference.measuredC.toFixed(1)} °C)`
      : '');
  statusbar.replaceChildren(
    item('status.camera', tCode(`camera.${camera.state}`), camera.state, camera.reason),
    item('status.reference', referenceText, referenceState, reference?.reason ?? ''),
    ...(screening ? [item('status.threshold', thresholdText(screening), 'threshold')] : []),
    item(
      'status.uplink',
      status?.uplink ? status.uplink.state : t('status.uplinkNone'),
      status?.uplink?.state ?? 'none',
      status?.uplink?.reason ?? '',
    ),
  );
  statusbar.dataset.reference = referenceState;
}

// ---- persons: the current one and the last readings
const active = new Map<string, Screening>();
const readings: Reading[] = [];
function renderCurrent(): void {
  const candidates = [...active.values()].filter((s) => s.cameraId === cameraSelect.value);
  const person = candidates.sort((a, b) => b.at - a.at)[0];
  const reading = current.querySelector<HTMLElement>('.reading')!;
  const icon = current.querySelector<HTMLElement>('.icon')!;
  const state = current.querySelector<HTMLElement>('.state-text')!;
  if (!person) {
    current.className = 'current decision-none';
    reading.textContent = '—';
    icon.textContent = '';
    state.textContent = t('live.waiting');
    return;
  }
  const measured = person.state === 'measured' || person.display !== null;
  current.className = `current decision-${measured ? person.decision : 'none'}`;
  current.dataset.person = person.personId;
  reading.textContent = person.display ?? '—';
  icon.textContent = measured ? DECISION_ICON[person.decision] : '';
  const words = measured ? [t(`decision.${person.decision}`)] : [tCode(`state.${person.state}`)];
  state.textContent = [
    ...words,
    ...person.prompts.filter((p) => p !== 'confirm-with-thermometer').map(tCode),
  ].join(' · ');
}

/** Who is in view according to the latest status (covers persons with no recent event). */
function syncPersons(): void {
  for (const camera of status?.cameras ?? []) {
    const inView = new Set<string>();
    for (const p of camera.persons ?? []) {
      const key = `${camera.id}/${p.personId}`;
      inView.add(key);
      const known = active.get(key);
      active.set(key, {
        kind: 'update',
        personId: p.personId,
        cameraId: camera.id,
        at: known?.at ?? Date.now(),
        state: p.state,
        prompts: p.prompts,
        decision: p.decision ?? 'invalid',
        display: p.display,
      });
    }
    for (const key of [...active.keys()])
      if (key.startsWith(`${camera.id}/`) && !inView.has(key)) active.delete(key);
  }
}

function renderReadings(): void {
  if (readings.length === 0) {
    readingsList.replaceChildren(element('li', { className: 'empty', i18n: 'live.noReadings' }));
    return;
  }
  readingsList.replaceChildren(
    ...readings.map((r) =>
      element(
        'li',
        { className: `decision-${r.decision}` },
        element('time', { text: formatTime(r.at) }),
        element('span', {
          className: 'icon',
          text: DECISION_ICON[r.decision],
          attrs: { 'aria-hidden': 'true' },
        }),
        element('strong', { text: r.display ?? '—' }),
        element('span', { text: t(`decision.${r.decision}` as MessageKey).split(' — ')[0] }),
      ),
    ),
  );
}

function addReading(reading: Reading): void {
  readings.unshift(reading);
  readings.splice(10);
  renderReadings();
}

// The last readings survive a page reload: the store has them.
const recent = await api<{
  events: {
    lastAt: string;
    display: string | null;
    decision: Reading['decision'];
    cameraId: string;
    final: boolean;
  }[];
}>('/api/events?limit=10');
for (const e of recent.events)
  if (e.final)
    readings.push({
      at: Date.parse(e.lastAt),
      display: e.display,
      decision: e.decision,
      cameraId: e.cameraId,
    });
renderReadings();

// ---- alerts and sound
let soundOn = localStorage.getItem('canthus.sound') !== 'off';
let audio: AudioContext | null = null;
function renderSound(): void {
  soundButton.setAttribute('aria-pressed', String(soundOn));
  soundButton.textContent = `${soundOn ? '♪' : '×'} ${t(soundOn ? 'live.soundOn' : 'live.soundOff')}`;
  alertState.dataset.soundEnabled = String(soundOn);
}
soundButton.addEventListener('click', () => {
  soundOn = !soundOn;
  localStorage.setItem('canthus.sound', soundOn ? 'on' : 'off');
  audio ??= new AudioContext();
  renderSound();
});
// Browsers only allow sound after a gesture on the page: any click unlocks it.
document.addEventListener('click', () => {
  audio ??= new AudioContext();
  void audio.resume();
});

/** Three rising tones: audible over a busy entrance, distinct from phone ringtones. */
function beep(): void {
  alertState.dataset.sound = soundOn ? 'played' : 'muted';
  if (!soundOn) return;
  audio ??= new AudioContext();
  void audio.resume();
  const start = audio.currentTime;
  [660, 880, 1100].forEach((frequency, i) => {
    const oscillator = audio!.createOscillator();
    const gain = audio!.createGain();
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, start + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.25 + 0.22);
    oscillator.connect(gain).connect(audio!.destination);
    oscillator.start(start + i * 0.25);
    oscillator.stop(start + i * 0.25 + 0.23);
  });
}

let openAlerts: AlertView[] = [];
async function loadAlerts(): Promise<void> {
  const result = await api<{ alerts: AlertView[]; open: number }>('/api/alerts?acknowledged=false&limit=20');
  openAlerts = result.alerts;
  renderAlerts();
}
function renderAlerts(): void {
  const count = openAlerts.length;
  alertState.dataset.state = count > 0 ? 'elevated' : 'none';
  alertState.querySelector('.icon')!.textContent = count > 0 ? DECISION_ICON.elevated : DECISION_ICON.normal;
  alertState.querySelector('.text')!.textContent = count > 0 ? t('alerts.open') : t('alerts.none');
  alertState.querySelector('.count')!.textContent = t('live.openAlerts', { count });
  // Cards already on screen are kept as they are: a new alert must not wipe a form being filled in.
  const shown = new Map(
    [...alertsBox.querySelectorAll<HTMLElement>('[data-alert-id]')].map((card) => [
      card.dataset.alertId,
      card,
    ]),
  );
  alertsBox.replaceChildren(
    ...openAlerts.map((alert) => shown.get(alert.id) ?? alertCard(alert, () => void loadAlerts())),
  );
}

// ---- the live feed
liveSocket('/ws/live', {
  message: (event) => {
    const message = JSON.parse(String(event.data));
    switch (message.type) {
      case 'settings':
        screening = message.screening;
        unit = message.unit;
        renderStatus();
        break;
      case 'hello':
        screening = message.screening ?? null;
        unit = message.unit ?? unit;
        status = message.status;
        syncPersons();
        renderStatus();
        renderCurrent();
        break;
      case 'status':
        status = message.status;
        syncPersons();
        renderStatus();
        renderCurrent();
        break;
      case 'reference':
        if (status) {
          const camera = status.cameras.find((c) => c.id === message.cameraId);
          if (camera) camera.reference = message.reference;
          renderStatus();
        }
        break;
      case 'screening': {
        const s = message.event as Screening;
        const key = `${s.cameraId}/${s.personId}`;
        if (s.kind === 'end') {
          active.delete(key);
          addReading({ at: s.at, display: s.display, decision: s.decision, cameraId: s.cameraId });
        } else active.set(key, s);
        renderCurrent();
        break;
      }
      case 'alert':
        // Flag it at once; the card follows when the store has the row.
        alertState.dataset.state = 'elevated';
        beep();
        // The store writes the alert row from the same event; a moment later it is listed.
        setTimeout(() => void loadAlerts(), 300);
        break;
      case 'alert.acknowledged':
        void loadAlerts();
        break;
    }
  },
  // After a reconnect, catch up on what was missed.
  open: () => void loadAlerts(),
});

renderSound();
renderStatus();
renderCurrent();
await loadAlerts();
onLanguageChange(() => {
  renderPaletteOptions();
  renderRangeOptions();
  renderViewOptions();
  renderSound();
  renderStatus();
  renderCurrent();
  renderReadings();
  alertsBox.replaceChildren();
  renderAlerts();
});
// Persons whose `end` was missed (a reconnect) do not stay "current" for ever.
setInterval(() => {
  const now = Date.now();
  for (const [key, s] of active) if (now - s.at > 30_000) active.delete(key);
  renderCurrent();
}, 5000);
