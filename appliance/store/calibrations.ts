/**
 * Committed calibrations (calibrations.json): an append-only history, the audit trail that proves
 * how each camera's reference was set and what it measured when it was accepted.
 */
import type { CalibrationRecord } from '../core/records.ts';
import { JsonDocument } from './jsonFile.ts';
import { CALIBRATIONS_FILE_SCHEMA, schemaCheck } from './schemas.ts';

const deepCheck = schemaCheck(CALIBRATIONS_FILE_SCHEMA);

export type { CalibrationRecord } from '../core/records.ts';

interface CalibrationsFile {
  version: 1;
  calibrations: CalibrationRecord[];
}

export class CalibrationHistory {
  readonly #doc: JsonDocument<CalibrationsFile>;

  private constructor(doc: JsonDocument<CalibrationsFile>) {
    this.#doc = doc;
  }

  static async open(file: string): Promise<CalibrationHistory> {
    const doc = await JsonDocument.open<CalibrationsFile>(file, {
      what: 'calibration history',
      empty: () => ({ version: 1, calibrations: [] }),
      // The quick check's messages first, then every field against the full shape.
      check: (data) => checkCalibrationsFile(data) ?? deepCheck(data),
    });
    return new CalibrationHistory(doc);
  }

  get file(): string {
    return this.#doc.file;
  }

  /** Oldest first; only those of `cameraId` when given. */
  list(cameraId?: string): readonly CalibrationRecord[] {
    const all = this.#doc.data.calibrations;
    return cameraId === undefined ? all : all.filter((record) => record.cameraId === cameraId);
  }

  /** The most recent commit for the camera, or null. */
  latest(cameraId: string): CalibrationRecord | null {
    const all = this.#doc.data.calibrations;
    for (let i = all.length - 1; i >= 0; i--) if (all[i].cameraId === cameraId) return all[i];
    return null;
  }

  /**
   * Appends a record. `precondition` runs on the current history right before the write and may
   * throw to refuse (e.g. a newer calibration was committed meanwhile).
   */
  append(
    record: CalibrationRecord,
    precondition?: (history: readonly CalibrationRecord[]) => void,
  ): Promise<CalibrationRecord> {
    return this.#doc.update((draft) => {
      precondition?.(draft.calibrations);
      draft.calibrations.push(record);
      return record;
    });
  }
}

function checkCalibrationsFile(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object';
  const calibrations = (data as { calibrations?: unknown }).calibrations;
  if (!Array.isArray(calibrations)) return 'expected "calibrations" to be an array';
  for (const [index, record] of calibrations.entries()) {
    const r = record as Partial<CalibrationRecord> | null;
    if (typeof r !== 'object' || r === null) return `calibrations[${index}] is not an object`;
    if (typeof r.cameraId !== 'string' || typeof r.id !== 'string') {
      return `calibrations[${index}] needs "id" and "cameraId"`;
    }
    const v = r.values;
    if (
      typeof v !== 'object' ||
      v === null ||
      typeof v.setpointC !== 'number' ||
      typeof v.emissivity !== 'number' ||
      typeof v.region !== 'object' ||
      v.region === null
    ) {
      return `calibrations[${index}].values needs region, setpointC and emissivity`;
    }
  }
  return null;
}
