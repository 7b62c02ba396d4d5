/**
 * The visitor screen's feed: WS /ws/visitor, no login, read-only, for a display facing the
 * entrance. It carries one instruction code per camera and nothing else — no temperature, no
 * decision wording, no image — so a screen anyone can look at reveals nothing about anyone.
 *   {type:'visitor', cameraId, code, prompts}
 * `code` is a prompt code of core/persons.ts or one of the screen's own (VisitorCode); the page
 * words it in the visitor's language. A message goes out only when the code changes.
 *
 * The admin's screen settings (texts, colours and whether the reading may be shown — off unless
 * enabled) go out as {type:'settings', texts, colours, showTemperature} on connect and on every
 * change; only with showTemperature does a result message carry `display` (e.g. "36.6 °C").
 */
import { WebSocket, WebSocketServer } from 'ws';
import type { EventBusMap } from '../../core/events.ts';
import type { PromptCode } from '../../core/persons.ts';
import { refuseUpgrade, sameOrigin } from '../../http/websocket.ts';
import type { Feature } from '../feature.ts';
import { VISITOR_DEFAULTS } from '../settings/settings.ts';

/** The screen's own instructions beside the person prompts. */
export type VisitorCode =
  | PromptCode
  | 'welcome'
  | 'camera-warming-up'
  | 'measuring'
  | 'thank-you'
  | 'see-staff';

export interface VisitorMessage {
  type: 'visitor';
  cameraId: string;
  code: VisitorCode;
  prompts: PromptCode[];
  /** The reading, only on a result and only when the admin enabled showing it. */
  display?: string;
}

/** A result ("thank you", "please see the staff") stays up this long after the person leaves. */
export const RESULT_HOLD_MS = 3000;

/**
 * What the screen says for one frame: the blackbody first (no screening without it), then the
 * nearest person (largest box): their result, else their first prompt, else where they are.
 */
export function visitorCode(frame: Pick<EventBusMap['frame'], 'reference' | 'tracks'>): {
  code: VisitorCode;
  prompts: PromptCode[];
  display?: string | null;
} {
  if (frame.reference.state === 'ffc') return { code: 'camera-recalibrating', prompts: [] };
  if (frame.reference.state === 'warming') return { code: 'camera-warming-up', prompts: [] };
  const persons = frame.tracks.filter((t) => t.personId !== null);
  if (persons.length === 0) return { code: 'welcome', prompts: [] };
  const nearest = persons.reduce((a, b) => (b.box[2] * b.box[3] > a.box[2] * a.box[3] ? b : a));
  const prompts = [...nearest.prompts];
  if (nearest.decision === 'elevated') return { code: 'see-staff', prompts: [], display: nearest.display };
  if (nearest.decision === 'normal') return { code: 'thank-you', prompts: [], display: nearest.display };
  if (nearest.decision === 'retest') return { code: 'measure-again', prompts: [] };
  if (frame.reference.state !== 'stable') return { code: 'camera-warming-up', prompts: [] };
  if (prompts.length > 0) return { code: prompts[0], prompts };
  if (nearest.state === 'approaching' || nearest.state === 'too-far') return { code: 'come-closer', prompts };
  return { code: 'measuring', prompts };
}

const RESULTS = new Set<VisitorCode>(['thank-you', 'see-staff', 'measure-again']);

export function visitorFeature(): Feature {
  let wss: WebSocketServer | null = null;
  let unsubscribe: (() => void) | null = null;
  let offSettings: (() => void) | null = null;
  return {
    name: 'visitor',
    start(ctx) {
      if (!ctx.http) return;
      const server = new WebSocketServer({ noServer: true, maxPayload: 1024 });
      wss = server;
      const current = new Map<string, VisitorMessage & { since: number }>();
      const send = (ws: WebSocket, message: VisitorMessage) => {
        // A display that stops reading gets dropped; it reconnects.
        if (ws.bufferedAmount > 64 * 1024) ws.terminate();
        else if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      };
      let settings = ctx.config.visitor ?? VISITOR_DEFAULTS;
      const settingsMessage = () => JSON.stringify({ type: 'settings', ...settings });
      offSettings = ctx.bus.on(
        'settings.changed',
        (event) => {
          settings = event.visitor;
          const text = settingsMessage();
          for (const ws of server.clients) if (ws.readyState === WebSocket.OPEN) ws.send(text);
        },
        { name: 'visitor.settings' },
      );
      const onFrame = (event: EventBusMap['frame']) => {
        const { display, ...next } = visitorCode(event);
        const previous = current.get(event.cameraId);
        if (previous) {
          if (previous.code === next.code && previous.prompts.join() === next.prompts.join()) return;
          // Keep a result up a moment after the person walked on, so they can read it.
          if (
            next.code === 'welcome' &&
            RESULTS.has(previous.code) &&
            event.at - previous.since < RESULT_HOLD_MS
          )
            return;
        }
        const message: VisitorMessage = {
          type: 'visitor',
          cameraId: event.cameraId,
          ...next,
          // The reading reaches an anonymous screen only when the admin chose so.
          ...(settings.showTemperature && display ? { display } : {}),
        };
        current.set(event.cameraId, { ...message, since: event.at });
        for (const ws of server.clients) send(ws, message);
      };
      ctx.http.onUpgrade('/ws/visitor', (req, socket, head) => {
        if (!sameOrigin(req)) {
          refuseUpgrade(socket, 403, 'WebSocket from another origin refused');
          return;
        }
        server.handleUpgrade(req, socket, head, (ws) => {
          ws.on('error', () => ws.terminate());
          // Listens to frames only while a screen is connected.
          unsubscribe ??= ctx.bus.on('frame', onFrame, { name: 'visitor.prompts' });
          ws.on('close', () => {
            if (server.clients.size === 0 && unsubscribe) {
              unsubscribe();
              unsubscribe = null;
              current.clear();
            }
          });
          ws.send(settingsMessage());
          for (const camera of ctx.cameras) {
            const known = current.get(camera.id);
            const { since: _since, ...message } = known ?? {
              type: 'visitor' as const,
              cameraId: camera.id,
              code: 'welcome' as const,
              prompts: [],
              since: 0,
            };
            send(ws, message);
          }
        });
      });
    },
    stop() {
      offSettings?.();
      unsubscribe?.();
      for (const client of wss?.clients ?? []) client.terminate();
      wss?.close();
    },
    health() {
      return { screens: wss?.clients.size ?? 0 };
    },
  };
}
