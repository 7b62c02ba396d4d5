import { EventEmitter } from 'node:events';
import type { ReferenceState, ScreeningEvent, ThermalFrame } from './types.ts';

export type CameraState = 'starting' | 'online' | 'offline' | 'ended';

/** Every event the parts of the appliance exchange, name → payload. */
export interface EventBusMap {
  'camera.state': { cameraId: string; state: CameraState; reason: string; at: number };
  'frame.thermal': ThermalFrame;
  'reference.state': {
    cameraId: string;
    previous: ReferenceState | null;
    current: ReferenceState;
    at: number;
  };
  screening: ScreeningEvent;
}

/** The only way parts talk: typed publish/subscribe, so the pipeline does not know who listens. */
export class EventBus {
  readonly #emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.#emitter.setMaxListeners(50);
  }

  emit<K extends keyof EventBusMap>(name: K, payload: EventBusMap[K]): void {
    this.#emitter.emit(name, payload);
  }

  /** Subscribes and returns the function that unsubscribes. */
  on<K extends keyof EventBusMap>(name: K, listener: (payload: EventBusMap[K]) => void): () => void {
    this.#emitter.on(name, listener);
    return () => this.#emitter.off(name, listener);
  }
}
