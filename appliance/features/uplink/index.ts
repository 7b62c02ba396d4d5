/**
 * The command-centre uplink (docs/uplink.md): delivers the SQLite outbox (screening events, alerts,
 * calibration and registration commits, written by the event store in the same transaction as the
 * event; alert snapshots, written here once rendered) over MQTT 5 or signed webhooks, publishes
 * availability, health and reference states, answers remote commands, and streams video on
 * request under the uplink budget. Disabled unless configured: nothing leaves the box by default.
 */
import { type UplinkConfig, uplinkTransports } from '../../config/load.ts';
import type { EventBusMap } from '../../core/events.ts';
import type { ScreeningEvent } from '../../core/types.ts';
import { SPEC_VERSION } from '../../core/uplink.ts';
import type { Feature, FeatureContext } from '../feature.ts';
import { UplinkBudget } from './budget.ts';
import { handleCommand } from './commands.ts';
import { OutboxDelivery } from './delivery.ts';
import { type MqttRequest, MqttTransport } from './mqttTransport.ts';
import { renderCrop, UplinkPictures } from './video.ts';
import { WebhookTransport } from './webhookTransport.ts';

/** How often the outbox bound and the retention of sent rows are enforced. */
const TRIM_INTERVAL_MS = 30_000;
/** How long the `snapshot` command and an alert's visible picture wait for the next frame. */
const FRAME_WAIT_MS = 2000;
/** JPEG quality of alert snapshots: small pictures, read by a person, sent once. */
const SNAPSHOT_QUALITY = 80;

export function uplinkFeature(): Feature {
  let ctx: FeatureContext | null = null;
  let config: UplinkConfig | null = null;
  let mqtt: MqttTransport | null = null;
  let webhook: WebhookTransport | null = null;
  /** One delivery per configured transport, each settling the outbox rows for its own transport. */
  let deliveries: { transport: MqttTransport | WebhookTransport; delivery: OutboxDelivery }[] = [];
  /** The MQTT one: it also replays on request (commands are MQTT only). */
  let mqttDelivery: OutboxDelivery | null = null;
  /** Something new in the outbox: every transport looks. */
  const nudgeAll = (delayMs: number) => {
    for (const { delivery: d } of deliveries) d.nudge(delayMs);
  };
  let budget: UplinkBudget | null = null;
  let pictures: UplinkPictures | null = null;
  /** Alert snapshots being rendered: a clean stop waits for them (bounded) before the last drain. */
  const rendering = new Set<Promise<void>>();
  const snapshots = { written: 0, failed: 0 };
  const timers: NodeJS.Timeout[] = [];
  const unsubscribe: (() => void)[] = [];
  const references = new Map<string, EventBusMap['reference.state']>();
  const trimmed = { sentDeleted: 0, coalesced: 0, dropped: 0 };
  const requests = { answered: 0, refused: 0 };

  const health = () => {
    if (!ctx || !config?.enabled || deliveries.length === 0) return { enabled: false };
    const store = ctx.stores.events;
    const stats = store.outboxStats();
    const several = deliveries.length > 1;
    const each = deliveries.map(({ transport, delivery: d }) => ({
      name: transport.name,
      connection: transport.health(),
      // With one transport its backlog is the outbox's; with several, what this one still owes.
      backlog: several ? store.outboxBacklog(transport.name).unsent : stats.unsent,
      ...d.health(),
    }));
    const sum = (key: 'inFlight' | 'sent' | 'failures' | 'replayQueued') =>
      each.reduce((total, t) => total + t[key], 0);
    const connection = mqtt?.health() ?? webhook?.health() ?? null;
    const webhookHealth = each.find((t) => t.name === 'webhook');
    const problems: string[] = [];
    if (mqtt && mqtt.state !== 'connected')
      problems.push(
        `uplink ${mqtt.state} (broker ${mqtt.health().broker})${mqtt.lastError ? `: ${mqtt.lastError}` : ''}`,
      );
    if (webhookHealth && webhookHealth.consecutiveFailures > 0)
      problems.push(
        `webhook failing (${webhookHealth.consecutiveFailures} in a row): ${webhookHealth.lastError}`,
      );
    if (stats.parked > 0)
      problems.push(
        `${stats.parked} event(s) parked: the receiver refused them (last: ${stats.lastParkedError})`,
      );
    return {
      enabled: true,
      transport: config.transport,
      connection,
      backlog: stats.unsent,
      oldestUnsentAgeS:
        stats.oldestUnsentAt === null ? null : Math.round((Date.now() - stats.oldestUnsentAt) / 1000),
      parked: stats.parked,
      inFlight: sum('inFlight'),
      sent: sum('sent'),
      failures: sum('failures'),
      lastError: each.find((t) => t.lastError)?.lastError ?? null,
      retryInMs: Math.max(0, ...each.map((t) => t.backoffMs)),
      replayQueued: sum('replayQueued'),
      // Per transport: its connection and what it still owes (the same figures, one transport each).
      transports: Object.fromEntries(
        each.map(
          ({ name, connection: c, backlog, inFlight, sent, failures, lastError, backoffMs: retry }) => [
            name,
            { connection: c, backlog, inFlight, sent, failures, lastError, retryInMs: retry },
          ],
        ),
      ),
      trimmed: { ...trimmed },
      requests: { ...requests },
      // `rendering`: alert pictures still being drawn; their outbox rows come once they are done.
      snapshots: { mode: config.snapshot, ...snapshots, rendering: rendering.size },
      budget: budget?.health() ?? null,
      video: pictures?.health() ?? null,
      problem: problems.length > 0 ? problems.join('; ') : null,
    };
  };

  /** What goes to `…/health`: compact, the 5G uplink is the scarce direction. */
  const healthMessage = () => {
    const c = ctx!;
    const features = c.features().map(({ name, state, reason }) => ({ name, state, reason }));
    const cameras = c.cameras.map((camera) => {
      const h = camera.health();
      return {
        id: h.id,
        state: h.state,
        reason: h.reason,
        framesPerSecond: h.framesPerSecond.processed,
        reference: h.reference ? { state: h.reference.state, offsetC: h.reference.offsetC } : null,
        calibrationId: h.calibrationId,
      };
    });
    const problems = [
      ...cameras
        .filter((cam) => cam.state !== 'online' && cam.state !== 'ended')
        .map((cam) => `camera ${cam.id} is ${cam.state}: ${cam.reason}`),
      ...features
        .filter((f) => f.state === 'failed' || f.reason)
        .map((f) => `feature ${f.name}: ${f.reason}`),
    ];
    return {
      specversion: SPEC_VERSION,
      id: `${c.config.applianceId}-health-${Date.now()}`,
      source: c.config.applianceId,
      type: 'canthus.health',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      historical: false,
      data: {
        status: problems.length > 0 ? 'degraded' : 'ok',
        problems,
        uptimeS: Math.round((Date.now() - c.startedAt) / 1000),
        cameras,
        features,
        uplink: health(),
      },
    };
  };

  const publishHealth = () => {
    if (mqtt?.ready())
      void mqtt.publish(mqtt.topics.health, JSON.stringify(healthMessage()), { retain: true });
  };

  const publishReference = (event: EventBusMap['reference.state']) => {
    if (!mqtt?.ready() || !ctx) return;
    const { current, previous } = event;
    const envelope = {
      specversion: SPEC_VERSION,
      id: event.id,
      source: `${ctx.config.applianceId}/${event.cameraId}`,
      type: 'canthus.reference.state',
      time: new Date(event.at).toISOString(),
      datacontenttype: 'application/json',
      historical: false,
      data: {
        cameraId: event.cameraId,
        previous: previous?.state ?? null,
        state: current.state,
        reason: current.reason,
        measuredC: current.measuredC,
        setpointC: current.setpointC,
        offsetC: current.offsetC,
        gain: current.gain,
      },
    };
    void mqtt.publish(mqtt.topics.reference(event.cameraId), JSON.stringify(envelope), {
      eventId: event.id,
      retain: true,
    });
  };

  const onRequest = async (request: MqttRequest) => {
    if (!ctx || !mqtt || !mqttDelivery || !pictures || !config) return;
    const c = ctx;
    const d = mqttDelivery;
    const p = pictures;
    const m = mqtt;
    const response = await handleCommand(request.name, request.payload, {
      maxRequestBytes: config!.maxRequestBytes,
      applianceId: c.config.applianceId,
      health: () => healthMessage().data,
      replaySince: (fromMs, limit) => {
        const rows = c.stores.events.outboxSince(fromMs, limit);
        d.replay(rows);
        return rows.length;
      },
      cameraIds: c.cameras.map((camera) => camera.id),
      video: { maxDurationS: config.video.maxDurationS, fps: config.video.fps },
      snapshot: (cameraId) => p.snapshot(cameraId, FRAME_WAIT_MS, config!.video.quality),
      videoStart: (cameraId, durationS, fps) => ({
        cameraId,
        topic: m.topics.video(cameraId),
        ...p.startVideo(cameraId, durationS, fps),
      }),
      videoStop: () => p.stopVideo('requested'),
    });
    if (response.body.ok) requests.answered++;
    else {
      requests.refused++;
      c.log.warn(
        { command: request.name.slice(0, 64), bytes: request.payload.length, error: response.body.error },
        'uplink request refused',
      );
    }
    void m.publish(m.topics.response(response.name), JSON.stringify(response.body), {
      correlationData: request.correlationData,
    });
  };

  /**
   * The alert's picture (uplink.snapshot): rendered off the frame path, then written to the outbox
   * as its own row, so it is delivered (and retried) like the alert, which never waits for it.
   * Not in the alert's transaction: a crash while rendering loses the picture, never the alert.
   */
  const writeSnapshot = async (event: ScreeningEvent) => {
    const c = ctx!;
    const mode = config!.snapshot;
    const crop = event.crop!;
    try {
      const thermal = await renderCrop(crop, SNAPSHOT_QUALITY);
      const visible =
        mode === 'thermal+visible'
          ? await pictures!.nextVisible(event.cameraId, FRAME_WAIT_MS, SNAPSHOT_QUALITY)
          : null;
      c.stores.events.recordOutbox('snapshot', event.id, {
        alertId: `${event.id}-alert`,
        screeningEventId: event.id,
        personId: event.personId,
        cameraId: event.cameraId,
        at: event.at,
        capturedAt: new Date(crop.capturedAt).toISOString(),
        mode,
        thermal,
        visible,
      });
      snapshots.written++;
      nudgeAll(0);
    } catch (error) {
      snapshots.failed++;
      c.log.warn(
        { event: event.id, error: (error as Error).message },
        'uplink: the alert snapshot could not be written (the alert itself is sent)',
      );
    }
  };

  const trim = () => {
    if (!ctx || !config) return;
    const events = ctx.stores.events;
    const result = events.trimOutbox(config.outboxMaxRows);
    trimmed.sentDeleted += result.sentDeleted;
    trimmed.coalesced += result.coalesced;
    trimmed.dropped += result.dropped;
    if (result.coalesced + result.dropped > 0)
      ctx.log.warn(
        { ...result, maxRows: config.outboxMaxRows },
        'uplink outbox full: routine screening events coalesced or dropped (alerts are kept)',
      );
    events.pruneSentOutbox(Date.now() - ctx.config.retention.eventsDays * 86_400_000);
  };

  return {
    name: 'uplink',
    start(context) {
      ctx = context;
      config = context.config.uplink ?? null;
      if (!config?.enabled) {
        context.log.info('uplink disabled (uplink.enabled is false): nothing is sent upstream');
        return;
      }
      const transports = uplinkTransports(config);
      const deliveryOptions = {
        applianceId: context.config.applianceId,
        transports,
        maxInFlight: config.maxInFlight,
        replayPerSecond: config.replayPerSecond,
        retryInitialMs: config.retryInitialMs,
        retryMaxMs: config.retryMaxMs,
      };
      const b = new UplinkBudget(config.budgetBytesPerS);
      budget = b;
      if (transports.includes('mqtt')) {
        mqtt = new MqttTransport(
          config,
          context.config.applianceId,
          context.log,
          {
            onConnect: () => {
              mqttDelivery?.resetInFlight();
              publishHealth();
              for (const event of references.values()) publishReference(event);
            },
            onDisconnect: () => mqttDelivery?.resetInFlight(),
            onRequest: (request) => void onRequest(request),
          },
          b,
        );
        mqttDelivery = new OutboxDelivery(context.stores.events, mqtt, deliveryOptions, context.log);
        deliveries.push({ transport: mqtt, delivery: mqttDelivery });
      }
      if (transports.includes('webhook')) {
        webhook = new WebhookTransport(config, b);
        deliveries.push({
          transport: webhook,
          delivery: new OutboxDelivery(context.stores.events, webhook, deliveryOptions, context.log),
        });
      }
      const m = mqtt;
      pictures = new UplinkPictures({
        bus: context.bus,
        budget: b,
        options: config.video,
        unit: context.config.screening.unit,
        log: context.log,
        // Video is MQTT only (a webhook per frame would be absurd); the command is MQTT only too.
        send: (frame) => m?.publishVideo(frame) ?? false,
      });
      trim();
      const nudge = () => nudgeAll(20);
      unsubscribe.push(
        context.bus.on('screening', nudge, { name: 'uplink.screening' }),
        context.bus.on('alert', () => nudgeAll(0), { name: 'uplink.alert' }),
        // The bus events come before the store's commit; this comes after it: an alert leaves
        // at once, not at the next poll (the 1 s alert promise of docs/uplink.md).
        context.stores.events.onOutbox((topic) => nudgeAll(topic === 'alert' ? 0 : 20)),
        context.bus.on(
          'screening',
          (event) => {
            if (config?.snapshot === 'off' || !event.alert || !event.crop) return;
            const job = writeSnapshot(event);
            rendering.add(job);
            void job.finally(() => rendering.delete(job));
          },
          { name: 'uplink.snapshot' },
        ),
        context.bus.on('calibration.committed', nudge, { name: 'uplink.calibration' }),
        context.bus.on('registration.committed', nudge, { name: 'uplink.registration' }),
        context.bus.on(
          'reference.state',
          (event) => {
            references.set(event.cameraId, event);
            publishReference(event);
          },
          { name: 'uplink.reference' },
        ),
      );
      const healthTimer = setInterval(publishHealth, config.healthIntervalS * 1000);
      const trimTimer = setInterval(trim, TRIM_INTERVAL_MS);
      healthTimer.unref();
      trimTimer.unref();
      timers.push(healthTimer, trimTimer);
      mqtt?.start();
      for (const { delivery: d } of deliveries) d.start();
      context.log.info(
        { transport: config.transport, backlog: context.stores.events.outboxStats().unsent },
        'uplink started',
      );
    },
    async stop() {
      for (const off of unsubscribe.splice(0)) off();
      for (const timer of timers.splice(0)) clearInterval(timer);
      pictures?.close();
      if (rendering.size > 0)
        await Promise.race([Promise.allSettled([...rendering]), new Promise((r) => setTimeout(r, 3000))]);
      if (config) {
        // Give the last events (a batch run's final `end`s) a bounded chance to leave on every
        // transport; whatever stays is in the outbox and goes at the next start.
        const drains = deliveries.map(({ transport, delivery: d }) =>
          transport === mqtt && mqtt.state === 'refused' ? false : d.drain(config!.flushOnStopMs),
        );
        if ((await Promise.all(drains)).includes(false))
          ctx?.log.warn(
            { backlog: ctx.stores.events.outboxStats().unsent },
            'uplink stopped with events waiting: they are sent at the next start',
          );
        for (const { delivery: d } of deliveries) d.stop();
      }
      await mqtt?.stop();
      mqtt = null;
      webhook = null;
      mqttDelivery = null;
      deliveries = [];
      pictures = null;
    },
    health,
  };
}
