/**
 * Health (admin): what the box is doing — per camera frames in / processed / skipped per second,
 * processing time and the blackbody reference; the uplink backlog, free disk, the scheduled jobs;
 * and today's readings (histogram, 0.1 °C bins) and persons per hour, drawn with uPlot.
 * /api/health every 5 s, /api/stats/today every minute: polling is enough for a page an admin
 * glances at, and it costs the appliance nothing while nobody looks.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { inUnit } from './alertCard.ts';
import type { MessageKey } from './catalogue.ts';
import {
  api,
  applyTranslations,
  element,
  formatDateTime,
  onLanguageChange,
  renderTopBar,
  requireLogin,
  t,
  tCode,
} from './common.ts';

interface CameraHealth {
  id: string;
  name: string;
  state: string;
  framesPerSecond: { in: number; processed: number; skipped: number };
  processingMs: number;
  reference: { state: string; measuredC: number | null; setpointC: number } | null;
}
interface Report {
  status: 'ok' | 'degraded';
  problems: string[];
  uptimeS: number;
  eventLoopLagMs: number;
  cameras: CameraHealth[];
  features: { name: string; state: string; detail?: Record<string, unknown> }[];
}
interface DayStats {
  from: number;
  readings: { fromC: number; count: number }[];
  perHour: { at: number; persons: number; elevated: number }[];
  total: number;
  diskFreeMB: number | null;
}
interface JobDetail {
  runs: number;
  last: { startedAt: string; ok: boolean; outcome: string } | null;
}

const me = await requireLogin('admin');
renderTopBar(me, 'health');
applyTranslations();
const $ = (id: string) => document.getElementById(id)!;
let unit: 'C' | 'F' = 'C';
let report: Report | null = null;
let stats: DayStats | null = null;

function fact(key: MessageKey, value: string, name: string): HTMLElement[] {
  return [element('dt', { i18n: key }), element('dd', { text: value, attrs: { 'data-fact': name } })];
}

function render(): void {
  if (report) {
    $('overall').textContent = t(report.status === 'ok' ? 'health.ok' : 'health.degraded');
    $('overall').dataset.status = report.status;
    $('problems').replaceChildren(...report.problems.map((p) => element('li', { text: p })));
    const head = element(
      'tr',
      {},
      ...(
        [
          'status.camera',
          'health.framesIn',
          'health.framesProcessed',
          'health.framesSkipped',
          'health.processingMs',
          'status.reference',
        ] as const
      ).map((key) => element('th', { i18n: key })),
    );
    const rows = report.cameras.map((c) =>
      element(
        'tr',
        { attrs: { 'data-camera': c.id } },
        element('td', { text: `${c.name} (${tCode(`camera.${c.state}`)})` }),
        element('td', { text: c.framesPerSecond.in.toFixed(1) }),
        element('td', { text: c.framesPerSecond.processed.toFixed(1) }),
        element('td', { text: c.framesPerSecond.skipped.toFixed(1) }),
        element('td', { text: c.processingMs.toFixed(1) }),
        element('td', {
          text: c.reference
            ? `${tCode(`reference.${c.reference.state}`)}${c.reference.measuredC === null ? '' : ` (${c.reference.measuredC.toFixed(2)} / ${c.reference.setpointC} °C)`}`
            : t('reference.none'),
        }),
      ),
    );
    $('cameras').replaceChildren(
      element('table', { className: 'table' }, element('thead', {}, head), element('tbody', {}, ...rows)),
    );
    const detail = (name: string) => report?.features.find((f) => f.name === name)?.detail ?? {};
    const uplink = detail('uplink') as { enabled?: boolean; backlog?: number };
    $('facts').replaceChildren(
      ...fact('health.uptime', t('health.hours', { hours: (report.uptimeS / 3600).toFixed(1) }), 'uptime'),
      ...fact('health.eventLoop', report.eventLoopLagMs.toFixed(0), 'eventLoop'),
      ...fact(
        'status.uplink',
        uplink.enabled ? t('health.backlog', { count: uplink.backlog ?? 0 }) : t('status.uplinkNone'),
        'uplink',
      ),
      ...fact('health.diskFree', stats?.diskFreeMB == null ? '—' : `${stats.diskFreeMB} MB`, 'disk'),
      ...fact('health.today', String(stats?.total ?? '—'), 'today'),
    );
    const jobs = Object.entries(detail('jobs')).filter(([key]) => key !== 'problem') as [string, JobDetail][];
    $('jobs').replaceChildren(
      element(
        'ul',
        { className: 'jobs' },
        ...jobs.map(([name, job]) =>
          element('li', {
            attrs: { 'data-job': name, 'data-ok': String(job.last?.ok ?? true) },
            text: `${name}: ${job.last ? `${formatDateTime(job.last.startedAt)} — ${job.last.outcome}` : t('health.never')}`,
          }),
        ),
      ),
    );
  }
  drawCharts();
}

const axis = { stroke: '#aab3bf', grid: { stroke: '#ffffff14' } };
let readingsChart: uPlot | null = null;
let hoursChart: uPlot | null = null;
function drawCharts(): void {
  if (!stats) return;
  const bars = uPlot.paths.bars!({ size: [0.8, 40] });
  // The histogram: every 0.1 °C bin from the lowest to the highest reading, empty bins as 0.
  const bins = stats.readings;
  const xs: number[] = [];
  const counts: number[] = [];
  if (bins.length > 0) {
    const lo = Math.round(bins[0].fromC * 10);
    const hi = Math.round(bins[bins.length - 1].fromC * 10);
    const byBin = new Map(bins.map((b) => [Math.round(b.fromC * 10), b.count]));
    for (let b = lo - 1; b <= hi + 1; b++) {
      xs.push(b / 10);
      counts.push(byBin.get(b) ?? 0);
    }
  }
  const readingsBox = $('readings-chart');
  readingsBox.dataset.bins = String(bins.length);
  readingsChart?.destroy();
  readingsChart = new uPlot(
    {
      width: Math.max(280, readingsBox.clientWidth),
      height: 200,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [
        { ...axis, values: (_u, ticks) => ticks.map((v) => inUnit(v, unit)) },
        { ...axis, size: 40 },
      ],
      series: [
        {},
        {
          label: t('health.persons'),
          fill: '#56b4e9',
          stroke: '#56b4e9',
          paths: bars,
          points: { show: false },
        },
      ],
    },
    [xs, counts],
    readingsBox,
  );
  const hoursBox = $('hours-chart');
  hoursBox.dataset.hours = String(stats.perHour.filter((h) => h.persons > 0).length);
  hoursChart?.destroy();
  hoursChart = new uPlot(
    {
      width: Math.max(280, hoursBox.clientWidth),
      height: 200,
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 40 }],
      series: [
        {},
        {
          label: t('health.persons'),
          fill: '#56b4e9',
          stroke: '#56b4e9',
          paths: bars,
          points: { show: false },
        },
        {
          label: t('health.elevated'),
          fill: '#e69f00',
          stroke: '#e69f00',
          paths: bars,
          points: { show: false },
        },
      ],
    },
    [
      stats.perHour.map((h) => h.at / 1000 + 1800),
      stats.perHour.map((h) => h.persons),
      stats.perHour.map((h) => h.elevated),
    ],
    hoursBox,
  );
}
onLanguageChange(render);

async function loadHealth(): Promise<void> {
  report = await api<Report>('/api/health').catch(() => report);
  render();
}
async function loadStats(): Promise<void> {
  stats = await api<DayStats>('/api/stats/today').catch(() => stats);
  render();
}
unit = (await api<{ unit: 'C' | 'F' }>('/api/cameras').catch(() => ({ unit }))).unit;
await Promise.all([loadHealth(), loadStats()]);
setInterval(() => void loadHealth(), 5000);
setInterval(() => void loadStats(), 60_000);
