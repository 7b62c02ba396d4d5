/**
 * The admin calibration wizard: drag the blackbody's region on the live image, check set point and
 * emissivity, measure (the calibration-session API), see the figures and the acceptance checks,
 * commit; the history below says who calibrated what, when, with which figures. Staff are refused.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { MessageKey } from './catalogue.ts';
import {
  ApiError,
  api,
  applyTranslations,
  element,
  formatDateTime,
  liveSocket,
  onLanguageChange,
  renderTopBar,
  requireLogin,
  t,
} from './common.ts';

interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Check {
  value: number | null;
  limit: number;
  rule: string;
  passed: boolean;
}

interface SessionView {
  id: string;
  cameraId: string;
  state: 'measuring' | 'measured' | 'verified' | 'committed' | 'discarded';
  progress: number;
  values: { region: Region; setpointC: number; emissivity: number };
  figures: Record<string, unknown>;
  verification: { passed: boolean; checks: Record<string, Check>; failures: string[] } | null;
  calibrationId: string | null;
}

interface CalibrationRecord {
  id: string;
  cameraId: string;
  committedAt: string;
  committedBy: string;
  values: { region: Region; setpointC: number; emissivity: number };
  figures: Record<string, unknown>;
  verification: { passed: boolean };
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const me = await requireLogin('admin');
renderTopBar(me, 'calibration');
applyTranslations();

const cameras = await api<{ cameras: { id: string; name: string; width: number; height: number }[] }>(
  '/api/cameras',
);
const cameraSelect = $<HTMLSelectElement>('camera');
for (const camera of cameras.cameras) cameraSelect.append(new Option(camera.name, camera.id));
const camera = () => cameras.cameras.find((c) => c.id === cameraSelect.value) ?? cameras.cameras[0];

// ---- live image and region dragging
const canvas = $<HTMLCanvasElement>('video');
const stage = $('stage');
const selection = $('selection');
const regionText = $('region');
const context = canvas.getContext('2d')!;
let drawing = false;
const video = liveSocket(
  `/ws/video?camera=${encodeURIComponent(cameraSelect.value)}&palette=white-hot`,
  {
    message: async (event) => {
      if (drawing) return;
      drawing = true;
      try {
        const bitmap = await createImageBitmap(event.data as Blob);
        if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
          canvas.width = bitmap.width;
          canvas.height = bitmap.height;
          showRegion();
        }
        context.drawImage(bitmap, 0, 0);
        bitmap.close();
        canvas.dataset.frames = String(Number(canvas.dataset.frames ?? 0) + 1);
      } finally {
        drawing = false;
      }
    },
  },
  true,
);
cameraSelect.addEventListener('change', () => {
  region = null;
  showRegion();
  video.reopen(`/ws/video?camera=${encodeURIComponent(cameraSelect.value)}&palette=white-hot`);
});

let region: Region | null = null;
/** Client coordinates → thermal pixels of the camera (the canvas shows the frame scaled). */
function toThermal(clientX: number, clientY: number): { x: number; y: number } {
  const box = canvas.getBoundingClientRect();
  const c = camera();
  return {
    x: Math.max(0, Math.min(c.width, ((clientX - box.left) / box.width) * c.width)),
    y: Math.max(0, Math.min(c.height, ((clientY - box.top) / box.height) * c.height)),
  };
}

function showRegion(): void {
  if (!region) {
    selection.hidden = true;
    regionText.textContent = t('calibration.regionNone');
    return;
  }
  const c = camera();
  selection.hidden = false;
  selection.style.left = `${(region.x / c.width) * 100}%`;
  selection.style.top = `${(region.y / c.height) * 100}%`;
  selection.style.width = `${(region.width / c.width) * 100}%`;
  selection.style.height = `${(region.height / c.height) * 100}%`;
  regionText.textContent = `x ${region.x}, y ${region.y}, ${region.width} × ${region.height} px`;
}

let dragFrom: { x: number; y: number } | null = null;
stage.addEventListener('pointerdown', (event) => {
  dragFrom = toThermal(event.clientX, event.clientY);
  stage.setPointerCapture(event.pointerId);
  event.preventDefault();
});
stage.addEventListener('pointermove', (event) => {
  if (!dragFrom) return;
  const to = toThermal(event.clientX, event.clientY);
  region = {
    x: Math.floor(Math.min(dragFrom.x, to.x)),
    y: Math.floor(Math.min(dragFrom.y, to.y)),
    width: Math.max(1, Math.round(Math.abs(to.x - dragFrom.x))),
    height: Math.max(1, Math.round(Math.abs(to.y - dragFrom.y))),
  };
  showRegion();
});
stage.addEventListener('pointerup', () => {
  dragFrom = null;
});

// Start from the region the reference uses now.
const health = await api<{
  cameras: { id: string; reference: { region: Region | null; setpointC: number } | null }[];
}>('/api/health');
const known = health.cameras.find((c) => c.id === cameraSelect.value)?.reference;
if (known?.region) region = { ...known.region };
if (known?.setpointC) $<HTMLInputElement>('setpoint').value = String(known.setpointC);
showRegion();

// ---- the session
const form = $<HTMLFormElement>('session-form');
const panel = $('session');
const error = $('error');
let session: SessionView | null = null;
let timer: number | null = null;

function fail(e: unknown): void {
  error.textContent = t('error.request', { detail: e instanceof ApiError ? e.message : String(e) });
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const data = new FormData(form);
  try {
    session = await api<SessionView>('/api/calibration/sessions', {
      method: 'POST',
      body: {
        cameraId: cameraSelect.value,
        ...(region ? { region } : {}),
        setpointC: Number(data.get('setpoint')),
        emissivity: Number(data.get('emissivity')),
        durationS: Number(data.get('duration')),
      },
    });
    region = session.values.region;
    showRegion();
    renderSession();
    poll();
  } catch (e) {
    fail(e);
  }
});

function poll(): void {
  if (timer !== null) clearTimeout(timer);
  timer = window.setTimeout(async () => {
    if (session?.state !== 'measuring') return;
    try {
      session = await api<SessionView>(`/api/calibration/sessions/${session.id}`);
      renderSession();
    } catch (e) {
      fail(e);
    }
    poll();
  }, 500);
}

const FIGURES = ['samples', 'readingC', 'noiseC', 'driftC', 'offsetC', 'correctedErrorC'] as const;
const fmt = (value: unknown) =>
  typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : '—';

function renderSession(): void {
  if (!session) {
    panel.replaceChildren();
    return;
  }
  const s = session;
  const state = element('p', { className: `session-state state-${s.state}` });
  state.textContent =
    s.state === 'measuring'
      ? t('calibration.progress', { percent: Math.round(s.progress * 100) })
      : t(`calibration.state.${s.state}` as MessageKey);
  const progress = element('progress', { attrs: { max: '1', value: String(s.progress) } });
  const table = element('table', { className: 'figures' });
  for (const name of FIGURES) {
    const check = s.verification?.checks[name];
    table.append(
      element(
        'tr',
        { className: check ? (check.passed ? 'ok' : 'bad') : '' },
        element('th', { i18n: `calibration.figure.${name}` as MessageKey }),
        element('td', { text: fmt(s.figures[name]) }),
        element('td', {
          text: check
            ? `${check.rule} ${check.limit} · ${t(check.passed ? 'calibration.check.ok' : 'calibration.check.bad')}`
            : '',
        }),
      ),
    );
  }
  const buttons = element('div', { className: 'controls' });
  const action = (key: MessageKey, path: string, after: (result: unknown) => void) => {
    const button = element('button', { i18n: key, attrs: { type: 'button', id: `session-${path}` } });
    button.addEventListener('click', async () => {
      error.textContent = '';
      try {
        after(await api(`/api/calibration/sessions/${s.id}/${path}`, { method: 'POST', body: {} }));
      } catch (e) {
        fail(e);
      }
    });
    buttons.append(button);
  };
  if (s.state === 'measured')
    action('calibration.verify', 'verify', (v) => {
      session = v as SessionView;
      renderSession();
    });
  if (s.state === 'verified' && s.verification?.passed)
    action('calibration.commit', 'commit', () => {
      session = { ...s, state: 'committed' };
      renderSession();
      void loadHistory();
    });
  if (s.state !== 'committed' && s.state !== 'discarded')
    action('calibration.discard', 'discard', (v) => {
      session = v as SessionView;
      renderSession();
    });
  const parts: HTMLElement[] = [state, progress, table];
  if (s.verification) {
    parts.push(
      element('p', {
        className: s.verification.passed ? 'passed' : 'failed',
        i18n: s.verification.passed ? 'calibration.passed' : 'calibration.failed',
      }),
    );
  }
  if (s.state === 'committed')
    parts.push(element('p', { className: 'passed', i18n: 'calibration.committed' }));
  parts.push(buttons);
  panel.replaceChildren(...parts);
}

// ---- live stability chart of the blackbody reading (uPlot), from the staff live feed
const CHART_POINTS = 120;
const times: number[] = [];
const readings: (number | null)[] = [];
const setpoints: number[] = [];
const chartBox = $('chart');
const chart = new uPlot(
  {
    width: Math.max(280, chartBox.clientWidth),
    height: 180,
    legend: { show: false },
    scales: { x: { time: true } },
    axes: [
      { stroke: '#aab3bf', grid: { stroke: '#ffffff14' } },
      { stroke: '#aab3bf', grid: { stroke: '#ffffff14' }, size: 52 },
    ],
    series: [{}, { stroke: '#56b4e9', width: 2 }, { stroke: '#009e73', dash: [6, 4], width: 1 }],
  },
  [times, readings, setpoints],
  chartBox,
);
new ResizeObserver(() => chart.setSize({ width: Math.max(280, chartBox.clientWidth), height: 180 })).observe(
  chartBox,
);
liveSocket('/ws/live', {
  message: (event) => {
    const message = JSON.parse(String(event.data));
    if (message.type !== 'reference.reading' || message.cameraId !== cameraSelect.value) return;
    times.push(message.at / 1000);
    readings.push(message.measuredC);
    setpoints.push(Number($<HTMLInputElement>('setpoint').value));
    if (times.length > CHART_POINTS) for (const series of [times, readings, setpoints]) series.shift();
    chart.setData([times, readings, setpoints]);
    chartBox.dataset.points = String(times.length);
  },
});

// ---- history
const history = $('history');
let records: CalibrationRecord[] = [];
async function loadHistory(): Promise<void> {
  records = (await api<{ calibrations: CalibrationRecord[] }>('/api/calibration/history')).calibrations;
  renderHistory();
}
function renderHistory(): void {
  if (records.length === 0) {
    history.replaceChildren(element('p', { i18n: 'calibration.historyNone' }));
    return;
  }
  const head = element(
    'tr',
    {},
    ...(
      [
        'calibration.when',
        'calibration.who',
        'live.camera',
        'calibration.setpoint',
        'calibration.emissivity',
        'calibration.figure.offsetC',
        'calibration.figure.correctedErrorC',
        'calibration.result',
      ] as MessageKey[]
    ).map((key) => element('th', { i18n: key })),
  );
  const rows = [...records]
    .reverse()
    .map((r) =>
      element(
        'tr',
        {},
        element('td', { text: formatDateTime(r.committedAt) }),
        element('td', { text: r.committedBy }),
        element('td', { text: r.cameraId }),
        element('td', { text: r.values.setpointC.toFixed(2) }),
        element('td', { text: r.values.emissivity.toFixed(3) }),
        element('td', { text: fmt(r.figures.offsetC) }),
        element('td', { text: fmt(r.figures.correctedErrorC) }),
        element('td', { text: r.verification.passed ? '✓' : '✗' }),
      ),
    );
  history.replaceChildren(
    element('table', { className: 'history' }, element('thead', {}, head), element('tbody', {}, ...rows)),
  );
}

onLanguageChange(() => {
  showRegion();
  renderSession();
  renderHistory();
});
await loadHistory();
