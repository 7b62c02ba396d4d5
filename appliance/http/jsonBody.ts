/**
 * The one JSON body parser of the API (installed by httpApp.ts for every router). Anyone who can
 * reach the box can send a body before logging in, so it is built to refuse cheaply and plainly:
 *
 * - size: a declared Content-Length over the limit is refused before a byte is read; a chunked body
 *   is counted while it arrives and cut off at the limit (413);
 * - depth: nesting is counted in one linear pass over the text before `JSON.parse`, so a 10 KB body
 *   of 5 000 nested arrays never reaches the parser, the validator or an error formatter (400);
 * - invalid JSON: the answer names where the text stops being JSON, never the text itself — the
 *   body may hold a password (V8's own message quotes the input);
 * - none of these is an internal error: nothing is logged per request, no stack trace.
 */
import type { RequestHandler } from 'express';

export interface BodyLimits {
  /** Bytes of body text. */
  maxBytes: number;
  /** Objects and arrays nested inside each other; a flat object is depth 1. */
  maxDepth: number;
}

export const BODY_LIMITS: BodyLimits = { maxBytes: 256 * 1024, maxDepth: 32 };

/** A refusal of the body, answered as `{ error }` with the status; never logged as a failure. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/** `application/json` (any case, parameters allowed), the only media type state changes accept. */
export function isJsonMediaType(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(';')[0].trim().toLowerCase() === 'application/json';
}

/** The charset parameter of a Content-Type, lower-cased, or null. */
function charsetOf(header: string): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(header);
  return match ? match[1].toLowerCase() : null;
}

/**
 * The deepest nesting of objects and arrays in `text`, counted outside strings; stops counting as
 * soon as `limit` is passed (returns limit + 1). Linear, no recursion, no allocation.
 */
export function jsonNestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return deepest;
}

/** Parses body text within the limits; throws `BodyError` with a message that quotes nothing. */
export function parseJsonBody(text: string, limits: BodyLimits = BODY_LIMITS): unknown {
  if (jsonNestingDepth(text, limits.maxDepth) > limits.maxDepth) {
    throw new BodyError(
      400,
      `request body nests objects and arrays more than ${limits.maxDepth} levels deep (allowed: at most ${limits.maxDepth})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message quotes the input ("… \"Passw0rd\",] is not valid JSON"): keep only where.
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const where = /end of JSON input/.test(message)
      ? 'it ends too early'
      : position !== undefined
        ? `unexpected character at position ${position}`
        : 'unexpected character';
    throw new BodyError(400, `request body is not valid JSON: ${where} (the body is not repeated here)`);
  }
}

/**
 * Middleware: reads and parses JSON bodies within `limits` into `req.body` (undefined when there is
 * no body). Other media types are left alone (the CSRF guard refuses them on state changes).
 */
export function jsonBodyParser(limits: BodyLimits = BODY_LIMITS): RequestHandler {
  const tooLarge = () =>
    new BodyError(
      413,
      `request body is larger than ${limits.maxBytes} bytes (allowed: at most ${Math.floor(limits.maxBytes / 1024)} KB)`,
    );
  return (req, res, next) => {
    req.body = undefined;
    const contentType = req.headers['content-type'];
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || !isJsonMediaType(contentType)) {
      next();
      return;
    }
    const charset = charsetOf(contentType as string);
    if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
      next(new BodyError(415, `request body must be UTF-8 JSON (got charset ${charset.slice(0, 40)})`));
      return;
    }
    // The rest of an oversized body is not read: the connection is closed after the answer.
    const refuse = (error: BodyError) => {
      res.setHeader('Connection', 'close');
      next(error);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      refuse(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (error: BodyError | null) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (error) {
        req.pause();
        refuse(error);
        return;
      }
      const bytes = Buffer.concat(chunks, received);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        next(new BodyError(400, 'request body is not valid UTF-8'));
        return;
      }
      if (text.trim() === '') {
        next();
        return;
      }
      try {
        req.body = parseJsonBody(text, limits);
      } catch (parseError) {
        next(parseError);
        return;
      }
      next();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limits.maxBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    const onError = () => finish(new BodyError(400, 'request body was cut off before its end'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  };
}
