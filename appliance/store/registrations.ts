/**
 * Committed visible → thermal registrations (registrations.json): an append-only history like the
 * calibrations; the latest one per camera is in force.
 */
import path from 'node:path';
import type { RegistrationRecord } from '../core/records.ts';
import { JsonDocument } from './jsonFile.ts';
import { REGISTRATIONS_FILE_SCHEMA, schemaCheck } from './schemas.ts';

const deepCheck = schemaCheck(REGISTRATIONS_FILE_SCHEMA);

export const REGISTRATIONS_FILE = 'registrations.json';

interface RegistrationsFile {
  version: 1;
  registrations: RegistrationRecord[];
}

export class RegistrationHistory {
  readonly #doc: JsonDocument<RegistrationsFile>;

  private constructor(doc: JsonDocument<RegistrationsFile>) {
    this.#doc = doc;
  }

  /** Opens (or creates) DATA/registrations.json; a file it cannot parse stops the start. */
  static async open(dataDir: string): Promise<RegistrationHistory> {
    const doc = await JsonDocument.open<RegistrationsFile>(path.join(dataDir, REGISTRATIONS_FILE), {
      what: 'registration history',
      empty: () => ({ version: 1, registrations: [] }),
      // The quick check's messages first, then every field against the full shape.
      check: (data) => checkRegistrationsFile(data) ?? deepCheck(data),
    });
    return new RegistrationHistory(doc);
  }

  get file(): string {
    return this.#doc.file;
  }

  /** Oldest first; only those of `cameraId` when given. */
  list(cameraId?: string): readonly RegistrationRecord[] {
    const all = this.#doc.data.registrations;
    return cameraId === undefined ? all : all.filter((r) => r.cameraId === cameraId);
  }

  /** The registration in force for a camera (the latest commit), or null. */
  latest(cameraId: string): RegistrationRecord | null {
    const all = this.#doc.data.registrations;
    for (let i = all.length - 1; i >= 0; i--) if (all[i].cameraId === cameraId) return all[i];
    return null;
  }

  append(record: RegistrationRecord): Promise<void> {
    return this.#doc.update((draft) => {
      draft.registrations.push(record);
    });
  }
}

function checkRegistrationsFile(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object';
  const registrations = (data as { registrations?: unknown }).registrations;
  if (!Array.isArray(registrations)) return 'expected "registrations" to be an array';
  for (const [index, record] of registrations.entries()) {
    const r = record as Partial<RegistrationRecord> | null;
    if (typeof r !== 'object' || r === null) return `registrations[${index}] is not an object`;
    if (typeof r.id !== 'string' || typeof r.cameraId !== 'string')
      return `registrations[${index}] needs "id" and "cameraId"`;
    if (!Array.isArray(r.homography) || r.homography.length !== 9 || !r.homography.every(Number.isFinite))
      return `registrations[${index}].homography must be 9 finite numbers`;
  }
  return null;
}
