/**
 * The staff live feed: WS /ws/live (staff session) pushes JSON messages as things happen —
 *   {type:'hello', user, unit, screening, status}   on connect (screening: the decision settings)
 *   {type:'settings', unit, screening}              an admin changed the site settings
 *   {type:'status', status}                         every STATUS_INTERVAL_MS: cameras, reference, uplink, open alerts
 *   {type:'screening', event}                       each person's new/update/end (no image data)
 *   {type:'alert', alert}                           a person needs a secondary check
 *   {type:'alert.acknowledged', acknowledgement}    someone recorded the secondary check
 *   {type:'reference', cameraId, reference}         a camera's blackbody reference changed state
 *   {type:'reference.reading', cameraId, at, state, measuredC}   the blackbody reading, about once a second
 * so every staff page updates without polling. A client that stops reading is dropped once it has
 * MAX_BUFFERED_BYTES waiting (it reconnects and reloads); it never holds memory or other clients.
 */
import { WebSocket, WebSocketServer } from 'ws';
import type { TrackView } from '../../core/types.ts';
import { authorizeUpgrade, endWithSession, SESSION_ENDED_CLOSE } from '../../http/websocket.ts';
import type { Feature, FeatureContext } from '../feature.ts';

export const STATUS_INTERVAL_MS = 2000;
const READING_INTERVAL_MS = 1000;
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** What the staff page shows in its status bar, and who is in front of each camera now. */
export function liveStatus(ctx: FeatureContext, persons: ReadonlyMap<string, TrackView[]> = new Map()) {
  const uplink = ctx.features().find((f) => f.name === 'uplink');
  return {
    cameras: ctx.cameras.map((camera) => {
      const h = camera.health();
      return {
        id: h.id,
        name: h.name,
        state: h.state,
        reason: h.reason,
        framesPerSecond: h.framesPerSecond,
        reference: h.reference
          ? { state: h.reference.state, reason: h.reference.reason, measuredC: h.reference.measuredC }
          : null,
        calibrationId: h.calibrationId,
        persons: persons.get(camera.id) ?? [],
      };
    }),
    uplink: uplink ? { state: uplink.state, reason: uplink.reason } : null,
    alertsOpen: ctx.stores.events.counts().alertsOpen,
  };
}

/** The decision settings staff see beside the live picture. */
function screeningShown(s: FeatureContext['config']['screening']) {
  return { mode: s.mode, thresholdC: s.thresholdC, retestBandC: s.retestBandC, deltaC: s.relative.deltaC };
}

export function liveFeature(): Feature {
  let wss: WebSocketServer | null = null;
  let timer: NodeJS.Timeout | null = null;
  const unsubscribe: (() => void)[] = [];
  // The persons on each camera's latest frame, so a page opened while someone stands still (no
  // screening event for a while) still shows them.
  const persons = new Map<string, TrackView[]>();
  const readingSentAt = new Map<string, number>();
  return {
    name: 'live',
    start(ctx) {
      if (!ctx.http) return;
      const http = ctx.http;
      const server = new WebSocketServer({ noServer: true, maxPayload: 1024 });
      wss = server;
      const broadcast = (message: unknown) => {
        if (server.clients.size === 0) return;
        const text = JSON.stringify(message);
        for (const ws of server.clients) {
          if (ws.readyState !== WebSocket.OPEN) continue;
          if (ws.bufferedAmount > MAX_BUFFERED_BYTES) ws.terminate();
          else ws.send(text);
        }
      };
      http.onUpgrade('/ws/live', (req, socket, head) => {
        const user = authorizeUpgrade(http, req, socket, 'staff');
        if (!user) return;
        server.handleUpgrade(req, socket, head, (ws) => {
          ws.on('error', () => ws.terminate());
          // A removed or disabled user's page stops receiving at once (within the recheck).
          const stopWatching = endWithSession(http, req, () =>
            ws.close(SESSION_ENDED_CLOSE, 'session ended'),
          );
          ws.on('close', stopWatching);
          ws.send(
            JSON.stringify({
              type: 'hello',
              user,
              unit: screening.unit,
              screening: screeningShown(screening),
              status: liveStatus(ctx),
            }),
          );
        });
      });
      // The decision settings in force, shown to staff (what "elevated" means right now).
      let screening = ctx.config.screening;
      unsubscribe.push(
        ctx.bus.on(
          'settings.changed',
          (event) => {
            screening = event.screening;
            broadcast({ type: 'settings', unit: screening.unit, screening: screeningShown(screening) });
          },
          { name: 'live.settings' },
        ),
        // Constant work (keeps a reference to a few small objects); queued, never on the frame path.
        ctx.bus.on(
          'frame',
          (event) => {
            persons.set(
              event.cameraId,
              event.tracks.filter((track) => track.personId !== null),
            );
            // The blackbody reading about once a second, for the calibration wizard's live chart.
            if (event.at - (readingSentAt.get(event.cameraId) ?? 0) >= READING_INTERVAL_MS) {
              readingSentAt.set(event.cameraId, event.at);
              broadcast({
                type: 'reference.reading',
                cameraId: event.cameraId,
                at: event.at,
                state: event.reference.state,
                measuredC: event.reference.measuredC,
              });
            }
          },
          { name: 'live.persons' },
        ),
        ctx.bus.on(
          'screening',
          (event) => {
            const { crop: _crop, trackBoxes: _boxes, ...rest } = event;
            broadcast({ type: 'screening', event: rest });
          },
          { name: 'live.screening' },
        ),
        ctx.bus.on(
          'alert',
          (event) => {
            const s = event.screening;
            broadcast({
              type: 'alert',
              alert: {
                id: event.screeningEventId,
                at: event.at,
                cameraId: s.cameraId,
                personId: s.personId,
                decision: s.decision,
                display: s.display,
                estimatedCoreC: s.estimatedCoreC,
                unit: s.unit,
                reasonCodes: s.reasonCodes,
              },
            });
          },
          { name: 'live.alert' },
        ),
        ctx.bus.on(
          'alert.acknowledged',
          (event) => broadcast({ type: 'alert.acknowledged', acknowledgement: event }),
          {
            name: 'live.acknowledged',
          },
        ),
        ctx.bus.on(
          'reference.state',
          (event) => broadcast({ type: 'reference', cameraId: event.cameraId, reference: event.current }),
          { name: 'live.reference' },
        ),
      );
      timer = setInterval(() => {
        if (server.clients.size > 0) broadcast({ type: 'status', status: liveStatus(ctx, persons) });
      }, STATUS_INTERVAL_MS);
      timer.unref();
    },
    stop() {
      for (const off of unsubscribe.splice(0)) off();
      if (timer) clearInterval(timer);
      for (const client of wss?.clients ?? []) client.terminate();
      wss?.close();
    },
    health() {
      return { clients: wss?.clients.size ?? 0 };
    },
  };
}
