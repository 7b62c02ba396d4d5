/**
 * Webhook delivery (Standard Webhooks): each outbox row is one POST of its envelope with
 * `webhook-id` (the envelope id, the same on every retry), `webhook-timestamp` (seconds) and
 * `webhook-signature` (`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`).
 * 2xx: delivered. 408, 429, 5xx, timeouts and network errors: retried by the delivery with backoff.
 * Any other 4xx: the endpoint refuses this event for good: parked.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { UplinkConfig } from '../../config/load.ts';
import { CanthusError } from '../../core/errors.ts';
import { type Envelope, signWebhook } from '../../core/uplink.ts';
import { VERSION } from '../../core/version.ts';
import type { UplinkBudget } from './budget.ts';
import type { SendResult, Transport } from './delivery.ts';

export class WebhookTransport implements Transport {
  readonly name = 'webhook' as const;
  readonly #url: URL;
  readonly #secret: string;
  readonly #ca: Buffer | undefined;
  readonly #timeoutMs: number;
  /** Since when the endpoint answers: rows older than that are a replay (historical). */
  #upSince: number;
  #down = false;
  #lastStatus: number | null = null;

  readonly #budget: UplinkBudget | null;

  constructor(config: UplinkConfig, budget: UplinkBudget | null = null) {
    this.#budget = budget;
    const webhook = config.webhook;
    this.#url = new URL(webhook.url!);
    const read = (file: string, what: string) => {
      try {
        return readFileSync(file);
      } catch (error) {
        throw new CanthusError(
          `uplink: cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    };
    this.#secret = webhook.secretFile
      ? read(webhook.secretFile, 'webhook secret file').toString('utf8').split('\n')[0].trim()
      : webhook.secret!;
    if (this.#secret.length < 24)
      throw new CanthusError('uplink: the webhook secret must be at least 24 characters');
    this.#ca = webhook.caFile ? read(webhook.caFile, 'CA file') : undefined;
    this.#timeoutMs = webhook.timeoutMs;
    this.#upSince = Date.now();
  }

  ready(): boolean {
    return true;
  }

  connectedSince(): number | null {
    return this.#upSince;
  }

  async send(_row: unknown, envelope: Envelope): Promise<SendResult> {
    const body = JSON.stringify(envelope);
    const timestamp = Math.floor(Date.now() / 1000);
    this.#budget?.spend(Buffer.byteLength(body));
    const result = await this.#post(body, {
      'content-type': 'application/json',
      'user-agent': `canthus/${VERSION}`,
      'webhook-id': envelope.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(this.#secret, envelope.id, timestamp, body),
    });
    if (result.ok) {
      if (this.#down) {
        this.#down = false;
        this.#upSince = Date.now();
      }
    } else if (!result.permanent) this.#down = true;
    return result;
  }

  health() {
    return {
      endpoint: `${this.#url.origin}${this.#url.pathname}`,
      state: this.#down ? 'failing' : 'ok',
      lastStatus: this.#lastStatus,
    };
  }

  #post(body: string, headers: Record<string, string>): Promise<SendResult> {
    const client = this.#url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const request = client.request(
        this.#url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: this.#timeoutMs,
          ...(this.#ca ? { ca: this.#ca } : {}),
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            this.#lastStatus = status;
            if (status >= 200 && status < 300) resolve({ ok: true });
            else
              resolve({
                ok: false,
                permanent: status >= 400 && status < 500 && status !== 408 && status !== 429,
                error: `webhook answered HTTP ${status}`,
              });
          });
          response.on('error', (error) => resolve({ ok: false, permanent: false, error: error.message }));
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`webhook did not answer within ${this.#timeoutMs} ms`)),
      );
      request.on('error', (error: NodeJS.ErrnoException) =>
        resolve({
          ok: false,
          permanent: false,
          error: `webhook: ${error.code ?? ''} ${error.message}`.trim(),
        }),
      );
      request.end(body);
    });
  }
}
