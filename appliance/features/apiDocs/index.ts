/** GET /api/openapi.json: the API described (see openapi.ts). */
import { Router } from 'express';
import type { Feature } from '../feature.ts';
import { openApiDocument } from './openapi.ts';

export function apiDocsFeature(): Feature {
  return {
    name: 'apiDocs',
    start(ctx) {
      if (!ctx.http) return;
      const document = openApiDocument();
      const router = Router();
      router.get('/openapi.json', (_req, res) => {
        res.json(document);
      });
      ctx.http.api.use(router);
    },
    stop() {},
  };
}
