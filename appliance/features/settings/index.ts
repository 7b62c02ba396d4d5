/**
 * Site settings (the settings page): GET /api/settings (staff: what is in force; admin: also where
 * it is stored, what waits for a restart and the uplink without its secrets) and PUT /api/settings
 * (admin). A change is checked with the loader's own rules (checkConfig) against the configuration
 * in force, so it is refused with the sentence the next start would give; then written into the
 * site file (DATA/config.json or the --config file) atomically, published as `settings.changed`
 * — the cameras, live feed, video, visitor screen and jobs apply what they can from it — and audited.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Request, Router } from 'express';
import {
  type ApplianceConfig,
  checkConfig,
  type Json,
  mergeConfig,
  readJsonFile,
  uplinkTransports,
} from '../../config/load.ts';
import { CanthusError } from '../../core/errors.ts';
import { currentUser, requireRole } from '../../http/guards.ts';
import { validateBody } from '../../http/validate.ts';
import { writeFileAtomic } from '../../store/jsonFile.ts';
import type { Feature, FeatureContext } from '../feature.ts';
import { diffSettings, needRestart, SETTINGS_BODY, type SiteSettings, siteSettings } from './settings.ts';

/** The file a change is written to: the site layer the appliance started with, else DATA/config.json. */
export function siteConfigFile(ctx: Pick<FeatureContext, 'config' | 'configLayers'>): string {
  const layers = ctx.configLayers ?? [];
  return layers.length > 1
    ? layers[layers.length - 1]
    : path.join(path.resolve(ctx.config.dataDir), 'config.json');
}

/** The uplink as an admin may see it: where it sends, never a password or secret. */
function uplinkShown(config: ApplianceConfig) {
  const uplink = config.uplink;
  if (!uplink) return null;
  const transports = uplinkTransports(uplink);
  return {
    enabled: uplink.enabled,
    transport: uplink.transport,
    url: (transports[0] === 'mqtt' ? uplink.mqtt.url : uplink.webhook.url) ?? null,
    ...(transports.length > 1 ? { webhookUrl: uplink.webhook.url ?? null } : {}),
  };
}

export function settingsFeature(): Feature {
  return {
    name: 'settings',
    start(ctx) {
      if (!ctx.http) return;
      const file = siteConfigFile(ctx);
      // The configuration as saved: the one in force plus every change made since the start.
      let saved = structuredClone(ctx.config) as ApplianceConfig;
      const restartPending = new Set<string>();
      // One change at a time: two admins saving together must not write over each other's change.
      let queue: Promise<unknown> = Promise.resolve();

      const answer = (settings: SiteSettings, admin: boolean) => ({
        settings,
        ...(admin ? { file, restartNeeded: [...restartPending].sort(), uplink: uplinkShown(saved) } : {}),
      });

      const router = Router();
      router.get('/settings', requireRole('staff'), (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        const user = currentUser(res)!;
        res.json(answer(siteSettings(saved), user.role === 'admin'));
      });

      router.put('/settings', requireRole('admin'), validateBody(SETTINGS_BODY), (req, res, next) => {
        const run = queue.then(() => change(req, currentUser(res)!.username));
        queue = run.catch(() => {});
        run.then(
          (result) => res.json(result),
          (error) => {
            if (error instanceof CanthusError && !(error as { kind?: unknown }).kind) {
              // The loader's sentence, on one line: "invalid configuration (FILE): /screening/thresholdC: …".
              res
                .status(400)
                .json({ error: error.message.replace(/:\n {2}/, ': ').replaceAll('\n  ', '; ') });
            } else next(error);
          },
        );
      });
      ctx.http.api.use(router);

      const change = async (req: Request, by: string) => {
        const patch = req.body as Json;
        // Checked as the whole configuration it makes; throws the loader's CanthusError.
        const { config: next } = checkConfig(
          mergeConfig(structuredClone(saved) as unknown as Json, patch),
          file,
        );
        const site = existsSync(file) ? readJsonFile(file, 'configuration') : {};
        if (typeof site !== 'object' || site === null || Array.isArray(site))
          throw new CanthusError(`configuration ${file} must be a JSON object`);
        const before = siteSettings(saved);
        const after = siteSettings(next);
        const changes = diffSettings(before, after);
        if (changes.length > 0) {
          await writeFileAtomic(file, `${JSON.stringify(mergeConfig(site, patch), null, 2)}\n`);
          saved = next;
        }
        const restartNeeded = needRestart(changes);
        for (const p of restartNeeded) restartPending.add(p);
        const changed = changes.map((c) => c.path);
        if (changes.length > 0) {
          ctx.bus.emit('settings.changed', { by, changed, restartNeeded, ...after });
          ctx.bus.emit('audit', {
            actor: by,
            action: 'settings changed',
            target: path.basename(file),
            from: req.ip ?? null,
            detail: { changes, restartNeeded },
          });
        }
        return {
          ...answer(after, true),
          changed,
          applied: changed.filter((p) => !restartNeeded.includes(p)),
          restartNeededNow: restartNeeded,
        };
      };
    },
    stop() {},
  };
}
