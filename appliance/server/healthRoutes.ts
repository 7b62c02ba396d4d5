import { Router } from 'express';
import type { Decision } from '../core/types.ts';

export interface CameraHealth {
  id: string;
  name: string;
  profile: string;
  source: string;
  state: string;
  reason: string;
  since: string;
  framesPerSecond: { in: number; processed: number; skipped: number };
  totals: { in: number; processed: number; skipped: number; droppedAtSource: number; flatField: number };
  lastFrameAt: string | null;
  processingMs: number;
  reference: {
    state: string;
    reason: string;
    measuredC: number | null;
    setpointC: number;
    offsetC: number;
    noiseC: number | null;
    region: { x: number; y: number; width: number; height: number } | null;
  } | null;
  /** Persons screened since start, by final decision (counts only: no readings, no identities). */
  screened: Record<Decision, number>;
}

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  applianceId: string;
  startedAt: string;
  uptimeS: number;
  cameras: CameraHealth[];
}

export function healthRoutes(health: () => Health): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    const body = health();
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });
  return router;
}
