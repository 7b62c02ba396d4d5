/**
 * Camera source URIs (issue 11, defect 8): an `rtsp://` without a host used to be accepted and
 * retried forever; query-string tokens were shown in health while user:password was redacted.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSourceUri, redactSource } from '../../appliance/camera/sources.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import { tempDir } from '../helpers/tempDir.ts';

describe('camera source URIs', () => {
  it('refuses rtsp URLs without a host at start, naming the camera and the allowed form', () => {
    for (const uri of ['rtsp://', 'rtsp:///stream', 'rtsps://:554/x']) {
      expect(() => parseSourceUri(uri), uri).toThrow(/has no host \(allowed: rtsp:\/\/host\[:port\]\/path\)/);
    }
    const dataDir = tempDir();
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({ cameras: [{ id: 'door', profile: 'lepton35', source: 'rtsp:///stream' }] }),
    );
    expect(() => loadConfig({ dataDir })).toThrow(
      /\/cameras\/0\/source: rtsp source: "rtsp:\/\/\/stream" has no host/,
    );
    expect(parseSourceUri('rtsp://cam.local:554/stream')).toEqual({
      kind: 'rtsp',
      url: 'rtsp://cam.local:554/stream',
    });
  });

  it('redacts credentials and query-string tokens', () => {
    expect(redactSource('rtsp://admin:hunter2@cam.local/stream?token=s3cret&channel=1&Key=k2')).toBe(
      'rtsp://***@cam.local/stream?token=***&channel=1&Key=***',
    );
    expect(() => parseSourceUri('rtsp://user:hunter2@/x')).toThrow(/^(?!.*hunter2)/);
  });
});
