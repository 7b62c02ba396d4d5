/**
 * Bi-spectrum registration (admin): a thermal still and a visible still side by side; the admin
 * clicks the same point in both (in either order) to make a pair. From 4 pairs the appliance fits
 * the visible → thermal mapping (POST /api/registration/:id/estimate, nothing stored) and the page
 * shows each pair's reprojection error and the overall figures against the limits; commit stores
 * it (audited) and the camera maps faces with it from the next frame. Points are kept in each
 * image's own pixels, whatever size the picture is drawn at.
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

interface Size {
  width: number;
  height: number;
}
interface CameraInfo {
  id: string;
  name: string;
  width: number;
  height: number;
  bispectrum: boolean;
  visible: Size | null;
}
interface Point {
  x: number;
  y: number;
}
interface Pair {
  thermal: Point;
  visible: Point;
}
interface Fit {
  figures: { pairs: number; rmsPx: number; maxPx: number; perPointPx: number[] };
  limits: { maxRmsPx: number; maxPointPx: number };
  passed: boolean;
  failures: string[];
  notes: string[];
}
interface RegistrationRecord {
  id: string;
  committedBy: string;
  committedAt: string;
  figures: { pairs: number; rmsPx: number; maxPx: number };
  forced: boolean;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SVG = 'http://www.w3.org/2000/svg';

const me = await requireLogin('admin');
renderTopBar(me, 'registration');
applyTranslations();

const cameraSelect = $<HTMLSelectElement>('camera');
const promptBox = $('prompt');
const pairsBox = $('pairs');
const figuresBox = $('figures');
const notesBox = $('fit-notes');
const errorBox = $('error');
const resultBox = $('result');
const stillError = $('still-error');
const inForce = $('in-force');
const historyBox = $('history');
const forceBox = $<HTMLInputElement>('force');

const all = (await api<{ cameras: CameraInfo[] }>('/api/cameras')).cameras;
const cameras = all.filter((camera) => camera.bispectrum && camera.visible);
if (cameras.length === 0) {
  $('no-bispectrum').hidden = false;
  $('workspace').hidden = true;
}
for (const camera of cameras) cameraSelect.append(new Option(camera.name, camera.id));

let pairs: Pair[] = [];
/** A point clicked in one image, waiting for its partner in the other. */
let pending: { image: 'thermal' | 'visible'; point: Point } | null = null;
let fit: Fit | null = null;
let fitProblem: string | null = null;
let history: RegistrationRecord[] = [];
const urls: Record<'thermal' | 'visible', string | null> = { thermal: null, visible: null };

const camera = () => cameras.find((c) => c.id === cameraSelect.value)!;
const sizeOf = (image: 'thermal' | 'visible'): Size =>
  image === 'thermal' ? { width: camera().width, height: camera().height } : camera().visible!;
const round1 = (v: number) => Math.round(v * 10) / 10;

async function loadStill(image: 'thermal' | 'visible'): Promise<void> {
  const img = $<HTMLImageElement>(`${image}-still`);
  const response = await fetch(`/api/cameras/${encodeURIComponent(cameraSelect.value)}/still?view=${image}`, {
    cache: 'no-store',
    credentials: 'same-origin',
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, String(body.error ?? response.statusText), body);
  }
  if (urls[image]) URL.revokeObjectURL(urls[image]!);
  urls[image] = URL.createObjectURL(await response.blob());
  img.src = urls[image]!;
  await img.decode().catch(() => {});
  img.dataset.loaded = 'true';
  const marks = $(`${image}-marks`);
  const size = sizeOf(image);
  marks.setAttribute('viewBox', `0 0 ${size.width} ${size.height}`);
}

async function loadStills(): Promise<void> {
  stillError.textContent = '';
  try {
    await Promise.all([loadStill('thermal'), loadStill('visible')]);
  } catch (error) {
    stillError.textContent = t('registration.stillError', {
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}

/** A click on a still, in that image's own pixels. */
function pointAt(image: 'thermal' | 'visible', event: MouseEvent): Point {
  const img = $<HTMLImageElement>(`${image}-still`);
  const box = img.getBoundingClientRect();
  const size = sizeOf(image);
  return {
    x: round1(Math.min(size.width, Math.max(0, ((event.clientX - box.left) / box.width) * size.width))),
    y: round1(Math.min(size.height, Math.max(0, ((event.clientY - box.top) / box.height) * size.height))),
  };
}

function onClick(image: 'thermal' | 'visible', event: MouseEvent): void {
  const point = pointAt(image, event);
  if (pending && pending.image !== image) {
    pairs.push(
      image === 'thermal'
        ? { thermal: point, visible: pending.point }
        : { thermal: pending.point, visible: point },
    );
    pending = null;
    void estimate();
  } else pending = { image, point };
  render();
}
for (const image of ['thermal', 'visible'] as const)
  $(`${image}-stage`).addEventListener('click', (event) => onClick(image, event));

function drawMarks(image: 'thermal' | 'visible'): void {
  const svg = $(`${image}-marks`);
  const size = sizeOf(image);
  // Marks sized for the image: readable on a 256-px thermal and a 1920-px visible picture alike.
  const r = Math.max(size.width, size.height) / 60;
  const marks: SVGElement[] = [];
  const mark = (p: Point, label: string, colour: string) => {
    const circle = document.createElementNS(SVG, 'circle');
    circle.setAttribute('cx', String(p.x));
    circle.setAttribute('cy', String(p.y));
    circle.setAttribute('r', String(r));
    circle.setAttribute('fill', 'none');
    circle.setAttribute('stroke', colour);
    circle.setAttribute('stroke-width', String(r / 3));
    const text = document.createElementNS(SVG, 'text');
    text.setAttribute('x', String(p.x + r * 1.2));
    text.setAttribute('y', String(p.y - r * 1.2));
    text.setAttribute('fill', colour);
    text.setAttribute('font-size', String(r * 2.2));
    text.setAttribute('font-weight', 'bold');
    text.textContent = label;
    marks.push(circle, text);
  };
  pairs.forEach((pair, i) => {
    const worst = fit && fit.figures.perPointPx[i] > fit.limits.maxPointPx;
    // Okabe–Ito: sky blue for a pair, vermillion for one over its limit (the number says which).
    mark(pair[image], String(i + 1), worst ? '#D55E00' : '#56B4E9');
  });
  if (pending?.image === image) mark(pending.point, '?', '#F0E442');
  svg.replaceChildren(...marks);
}

function render(): void {
  drawMarks('thermal');
  drawMarks('visible');
  promptBox.textContent = pending
    ? t(pending.image === 'thermal' ? 'registration.waitVisible' : 'registration.waitThermal')
    : pairs.length < 4
      ? t('registration.needPairs', { n: pairs.length })
      : '';
  const head = element(
    'tr',
    {},
    ...(
      [
        'registration.pair',
        'registration.thermalPoint',
        'registration.visiblePoint',
        'registration.error',
        'users.manage',
      ] as const
    ).map((key) => element('th', { i18n: key })),
  );
  const rows = pairs.map((pair, i) => {
    const error = fit?.figures.perPointPx[i];
    const remove = element('button', { i18n: 'registration.removePair', attrs: { type: 'button' } });
    remove.addEventListener('click', () => {
      pairs.splice(i, 1);
      void estimate();
      render();
    });
    const over = error !== undefined && fit !== null && error > fit.limits.maxPointPx;
    return element(
      'tr',
      { attrs: { 'data-pair': String(i + 1), ...(over ? { class: 'over' } : {}) } },
      element('td', { text: String(i + 1) }),
      element('td', { text: `${pair.thermal.x}, ${pair.thermal.y}` }),
      element('td', { text: `${pair.visible.x}, ${pair.visible.y}` }),
      element('td', { className: 'error', text: error === undefined ? '—' : error.toFixed(2) }),
      element('td', {}, remove),
    );
  });
  pairsBox.replaceChildren(
    element('table', { className: 'table' }, element('thead', {}, head), element('tbody', {}, ...rows)),
  );
  if (fit) {
    figuresBox.replaceChildren(
      element('strong', {
        className: fit.passed ? 'passed' : 'failed',
        text: `${fit.passed ? '✓' : '✗'} ${t(fit.passed ? 'registration.passed' : 'registration.failed')}`,
      }),
      ` — ${t('registration.figures', {
        rms: fit.figures.rmsPx.toFixed(2),
        maxRms: fit.limits.maxRmsPx,
        worst: fit.figures.maxPx.toFixed(2),
        maxPoint: fit.limits.maxPointPx,
      })}`,
    );
    figuresBox.dataset.rms = String(fit.figures.rmsPx);
    figuresBox.dataset.passed = String(fit.passed);
  } else {
    figuresBox.replaceChildren(fitProblem ?? '');
    delete figuresBox.dataset.rms;
    delete figuresBox.dataset.passed;
  }
  // The server's sentences (failures and advice) are shown as they are.
  notesBox.replaceChildren(
    ...[...(fit?.failures ?? []), ...(fit?.notes ?? [])].map((text) => element('li', { text })),
  );
  $<HTMLButtonElement>('commit').disabled = pairs.length < 4 || fit === null;
  renderHistory();
}

let estimating = 0;
async function estimate(): Promise<void> {
  const run = ++estimating;
  fit = null;
  fitProblem = null;
  if (pairs.length >= 4) {
    try {
      const answer = await api<Fit>(`/api/registration/${encodeURIComponent(cameraSelect.value)}/estimate`, {
        method: 'POST',
        body: { pairs },
      });
      if (run !== estimating) return;
      fit = answer;
    } catch (error) {
      if (run !== estimating) return;
      fitProblem = error instanceof ApiError ? t('error.request', { detail: error.message }) : String(error);
    }
  }
  render();
}

function renderHistory(): void {
  const active = history.at(-1);
  inForce.textContent = active
    ? t('registration.inForce', {
        when: formatDateTime(active.committedAt),
        by: active.committedBy,
        rms: active.figures.rmsPx.toFixed(2),
      })
    : t('registration.none');
  const head = element(
    'tr',
    {},
    ...(['registration.when', 'registration.by', 'registration.pairs', 'registration.error'] as const).map(
      (key) => element('th', { i18n: key }),
    ),
  );
  const rows = [...history].reverse().map((record) =>
    element(
      'tr',
      { attrs: { 'data-registration': record.id } },
      element('td', { text: formatDateTime(record.committedAt) }),
      element('td', { text: record.committedBy }),
      element('td', { text: String(record.figures.pairs) }),
      element('td', {
        text: `RMS ${record.figures.rmsPx.toFixed(2)} / max ${record.figures.maxPx.toFixed(2)}${record.forced ? ` (${t('registration.forced')})` : ''}`,
      }),
    ),
  );
  historyBox.replaceChildren(
    element('table', { className: 'table' }, element('thead', {}, head), element('tbody', {}, ...rows)),
  );
}

async function loadHistory(): Promise<void> {
  history = (
    await api<{ registrations: RegistrationRecord[] }>(
      `/api/registration/${encodeURIComponent(cameraSelect.value)}/history`,
    )
  ).registrations;
  renderHistory();
}

$('commit').addEventListener('click', async () => {
  errorBox.textContent = '';
  resultBox.textContent = '';
  try {
    const record = await api<RegistrationRecord>(
      `/api/registration/${encodeURIComponent(cameraSelect.value)}`,
      {
        method: 'POST',
        body: { pairs, ...(forceBox.checked ? { force: true } : {}) },
      },
    );
    resultBox.textContent = t('registration.committed', { rms: record.figures.rmsPx.toFixed(2) });
    forceBox.checked = false;
    await loadHistory();
  } catch (error) {
    errorBox.textContent =
      error instanceof ApiError ? t('error.request', { detail: error.message }) : String(error);
  }
});
$('clear').addEventListener('click', () => {
  pairs = [];
  pending = null;
  void estimate();
});
$('refresh').addEventListener('click', () => void loadStills());
cameraSelect.addEventListener('change', async () => {
  pairs = [];
  pending = null;
  fit = null;
  render();
  await Promise.all([loadStills(), loadHistory()]);
});
onLanguageChange(render);

if (cameras.length > 0) {
  render();
  await Promise.all([loadStills(), loadHistory()]);
}
