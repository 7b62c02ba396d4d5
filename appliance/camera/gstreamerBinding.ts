/**
 * Typed access to the `gstreamer-superficial` native binding. Its package entry is the `.node`
 * addon itself, which ESM cannot import, hence `createRequire`.
 */
import { createRequire } from 'node:module';

export interface GstBusMessage {
  type: string;
  _src_element_name?: string;
  name?: string;
  message?: string;
  [field: string]: unknown;
}

export interface GstAppSink {
  /** Waits (on a libuv pool thread) for the next sample; `buffer` is null on EOS or when stopped. */
  pull(callback: (buffer: Buffer | null, caps: Record<string, unknown>) => void): void;
  [property: string]: unknown;
}

export interface GstAppSrc {
  /** Copies the buffer into the pipeline. No back-pressure: callers must pace themselves. */
  push(buffer: Buffer, ptsBigEndian?: Buffer): void;
  [property: string]: unknown;
}

export interface GstPipeline {
  play(): void;
  pause(): void;
  stop(): void;
  sendEOS(): void;
  findChild(name: string): (GstAppSink & GstAppSrc) | undefined;
  pollBus(callback: (message: GstBusMessage) => void): void;
}

interface Binding {
  Pipeline: new (description: string) => GstPipeline;
}

let binding: Binding | null = null;

export function gstreamer(): Binding {
  if (!binding) {
    const require = createRequire(import.meta.url);
    binding = require('gstreamer-superficial') as Binding;
  }
  return binding;
}
