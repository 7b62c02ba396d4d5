/**
 * Alerts for entrance staff: persons who need a secondary check, and its outcome.
 *   GET  /api/alerts?acknowledged=&camera=&from=&to=&limit=   open alerts first, then acknowledged (staff)
 *   POST /api/alerts/:id/acknowledge {outcome, clinicalC?, note?}   once per alert (staff)
 * An acknowledgement is written to the alert's row, published as `alert.acknowledged` (every staff
 * page updates live) and audited. A second acknowledgement of the same alert is refused (409)
 * with who did it first, so two staff at the door never overwrite each other's finding.
 */
import { type Request, Router } from 'express';
import { ServiceError } from '../../core/errors.ts';
import { currentUser, requireRole } from '../../http/guards.ts';
import { readQuery, ULID_PATTERN } from '../../http/query.ts';
import { validateBody } from '../../http/validate.ts';
import type { AlertFilter, AlertOutcome, PersonRecord } from '../../store/eventStore.ts';
import type { Feature } from '../feature.ts';

export const ALERTS_MAX_LIMIT = 500;
const PARAMETERS = ['acknowledged', 'camera', 'from', 'to', 'limit'];

export const ACKNOWLEDGE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['outcome'],
  properties: {
    outcome: { enum: ['referred', 'cleared'] },
    // A clinical thermometer's reading, °C; outside this range it is a typo or not a person.
    clinicalC: { type: 'number', minimum: 30, maximum: 45 },
    note: { type: 'string', maxLength: 500 },
  },
};

const invalid = (message: string) => new ServiceError('invalid', message);

export function parseAlertFilter(query: Request['query']): AlertFilter {
  const read = readQuery(query, PARAMETERS);
  return {
    limit: read.limit('limit', ALERTS_MAX_LIMIT) ?? 100,
    ...read.window('from', 'to'),
    acknowledged: read.boolean('acknowledged'),
    cameraId: read.cameraId('camera'),
  };
}

/** An alert as the API shows it: the alert's own fields, the person's reading and snapshot links. */
export function alertView(person: PersonRecord) {
  const alert = person.alert!;
  return {
    ...alert,
    person: person.id,
    cameraId: person.cameraId,
    unit: person.unit,
    display: person.display,
    skinC: person.skinC,
    finalDecision: person.decision,
    reasonCodes: person.reasonCodes,
    reasons: person.reasons,
    firstAt: person.firstAt,
    lastAt: person.lastAt,
    snapshotUrls: {
      image: person.snapshot.image ? `/api/events/${person.id}/snapshot.jpg` : null,
      thermal: person.snapshot.thermal ? `/api/events/${person.id}/snapshot.png` : null,
    },
  };
}

export function alertsFeature(): Feature {
  return {
    name: 'alerts',
    start(ctx) {
      if (!ctx.http) return;
      const events = ctx.stores.events;
      const router = Router();
      const staff = requireRole('staff');

      router.get('/alerts', staff, (req, res) => {
        const filter = parseAlertFilter(req.query);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ alerts: events.listAlerts(filter).map(alertView), open: events.counts().alertsOpen });
      });

      router.post('/alerts/:id/acknowledge', staff, validateBody(ACKNOWLEDGE_BODY), (req, res) => {
        const id = String(req.params.id);
        if (!ULID_PATTERN.test(id)) throw invalid(`id: "${id}" is not an alert id`);
        const user = currentUser(res)!;
        const body = req.body as { outcome: AlertOutcome; clinicalC?: number; note?: string };
        const note = body.note?.trim() ? body.note.trim() : null;
        const clinicalC = body.clinicalC === undefined ? null : Math.round(body.clinicalC * 100) / 100;
        const outcome = events.acknowledgeAlert(id, {
          by: user.username,
          at: Date.now(),
          outcome: body.outcome,
          clinicalC,
          note,
        });
        if (outcome.result === 'not-found')
          throw new ServiceError('not-found', `no alert ${id} (or it was removed by retention)`);
        const alert = outcome.person.alert!;
        if (outcome.result === 'already')
          throw new ServiceError(
            'conflict',
            `alert ${id} was already acknowledged by ${alert.acknowledgedBy} at ${alert.acknowledgedAt} (${alert.outcome})`,
            { alert: alertView(outcome.person) },
          );
        ctx.bus.emit('alert.acknowledged', {
          alertId: id,
          person: outcome.person.id,
          cameraId: outcome.person.cameraId,
          by: user.username,
          outcome: body.outcome,
          clinicalC,
          note,
        });
        ctx.bus.emit('audit', {
          actor: user.username,
          action: 'alert acknowledged',
          target: id,
          from: req.ip ?? null,
          detail: { outcome: body.outcome, clinicalC, note, person: outcome.person.id },
        });
        res.json(alertView(outcome.person));
      });
      ctx.http.api.use(router);
    },
    stop() {},
  };
}
