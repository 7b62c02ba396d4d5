/** One alert as a card, with the secondary-check form: used by the live page and the alert list. */
import type { MessageKey } from './catalogue.ts';
import { ApiError, api, element, formatDateTime, t, tCode } from './common.ts';

export interface AlertView {
  id: string;
  raisedAt: string;
  decision: 'normal' | 'elevated' | 'retest' | 'invalid';
  estimatedCoreC: number | null;
  acknowledged: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  outcome: 'referred' | 'cleared' | null;
  clinicalC: number | null;
  note: string | null;
  person: string;
  cameraId: string;
  unit: 'C' | 'F';
  display: string | null;
  skinC: number | null;
  reasonCodes: string[];
  snapshotUrls: { image: string | null; thermal: string | null };
}

/** Shape + colour + words: never colour alone (colour-blind staff, glare on a phone). */
export const DECISION_ICON: Record<string, string> = {
  normal: '●',
  elevated: '▲',
  retest: '◆',
  invalid: '○',
};

export const inUnit = (celsius: number, unit: 'C' | 'F') =>
  unit === 'F' ? `${((celsius * 9) / 5 + 32).toFixed(1)} °F` : `${celsius.toFixed(1)} °C`;

export function alertCard(alert: AlertView, onChange: () => void): HTMLElement {
  const card = element('article', {
    className: `alert-card decision-${alert.decision}${alert.acknowledged ? ' acknowledged' : ''}`,
    attrs: { 'data-alert-id': alert.id },
  });
  const head = element(
    'header',
    {},
    element('span', {
      className: 'icon',
      text: DECISION_ICON[alert.decision] ?? '?',
      attrs: { 'aria-hidden': 'true' },
    }),
    element('strong', { className: 'reading', text: alert.display ?? '—' }),
    element('span', { className: 'decision', i18n: `decision.${alert.decision}` as MessageKey }),
  );
  card.append(head);
  const facts = element('dl');
  const fact = (key: MessageKey, value: string) =>
    facts.append(element('dt', { i18n: key }), element('dd', { text: value }));
  fact('alerts.raised', formatDateTime(alert.raisedAt));
  if (alert.skinC !== null) fact('alerts.skin', inUnit(alert.skinC, alert.unit));
  fact('alerts.camera', alert.cameraId);
  // The decision line already says "confirm with a clinical thermometer".
  const reasons = alert.reasonCodes
    .filter((code) => code !== 'confirm-with-thermometer')
    .map(tCode)
    .join(' · ');
  card.append(facts);
  if (reasons) card.append(element('p', { className: 'reasons', text: reasons }));
  if (alert.snapshotUrls.image) {
    card.append(
      element('img', {
        className: 'snapshot',
        attrs: { src: alert.snapshotUrls.image, alt: t('alerts.snapshot'), loading: 'lazy', width: '120' },
      }),
    );
  }
  if (alert.acknowledged) {
    const parts = [
      t('alerts.acknowledgedBy', {
        user: alert.acknowledgedBy ?? '?',
        time: formatDateTime(alert.acknowledgedAt!),
      }),
      t(`alerts.outcome.${alert.outcome ?? 'cleared'}` as MessageKey),
    ];
    if (alert.clinicalC !== null)
      parts.push(t('alerts.clinicalValue', { value: inUnit(alert.clinicalC, alert.unit) }));
    card.append(element('p', { className: 'ack-done', text: parts.join(' · ') }));
    if (alert.note) card.append(element('p', { className: 'note', text: alert.note }));
    return card;
  }
  card.append(acknowledgeForm(alert, onChange));
  return card;
}

function acknowledgeForm(alert: AlertView, onChange: () => void): HTMLFormElement {
  const form = element('form', { className: 'ack-form' });
  const outcome = element('fieldset', {}, element('legend', { i18n: 'alerts.outcome' }));
  for (const value of ['referred', 'cleared'] as const) {
    const input = element('input', { attrs: { type: 'radio', name: 'outcome', value, required: '' } });
    outcome.append(element('label', {}, input, element('span', { i18n: `alerts.${value}` })));
  }
  const clinical = element('input', {
    attrs: {
      type: 'number',
      name: 'clinical',
      step: '0.1',
      min: alert.unit === 'F' ? '86' : '30',
      max: alert.unit === 'F' ? '113' : '45',
      inputmode: 'decimal',
    },
  });
  const clinicalLabel = element(
    'label',
    {},
    element('span', { text: t('alerts.clinical', { unit: `°${alert.unit}` }) }),
    clinical,
  );
  const note = element('input', { attrs: { type: 'text', name: 'note', maxlength: '500' } });
  const noteLabel = element('label', {}, element('span', { i18n: 'alerts.note' }), note);
  const error = element('p', { className: 'form-error', attrs: { role: 'alert' } });
  const save = element('button', { i18n: 'alerts.save', attrs: { type: 'submit' } });
  form.append(element('h3', { i18n: 'alerts.acknowledge' }), outcome, clinicalLabel, noteLabel, save, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body: Record<string, unknown> = { outcome: data.get('outcome') };
    const value = String(data.get('clinical') ?? '').replace(',', '.');
    if (value) {
      const n = Number(value);
      body.clinicalC = Math.round((alert.unit === 'F' ? ((n - 32) * 5) / 9 : n) * 100) / 100;
    }
    const text = String(data.get('note') ?? '').trim();
    if (text) body.note = text;
    save.disabled = true;
    try {
      await api(`/api/alerts/${alert.id}/acknowledge`, { method: 'POST', body });
      onChange();
    } catch (e) {
      error.textContent =
        e instanceof ApiError && e.status === 409
          ? t('alerts.already')
          : t('error.request', { detail: (e as Error).message });
      if (e instanceof ApiError && e.status === 409) onChange();
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
