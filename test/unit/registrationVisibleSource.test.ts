import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVisibleSourceUri } from '../../appliance/camera/visibleSource.ts';
import { loadConfig } from '../../appliance/config/load.ts';
import { tempDir } from '../helpers/tempDir.ts';

describe('visible source URIs', () => {
  it('parses rtsp, v4l2 and images forms', () => {
    expect(parseVisibleSourceUri('rtsp://user:pw@cam.local/visible')).toEqual({
      kind: 'rtsp',
      url: 'rtsp://user:pw@cam.local/visible',
    });
    expect(parseVisibleSourceUri('v4l2:/dev/video2')).toEqual({ kind: 'v4l2', device: '/dev/video2' });
    expect(parseVisibleSourceUri('images:/data/visible?fps=12.5')).toEqual({
      kind: 'images',
      dir: '/data/visible',
      fps: 12.5,
    });
    expect(parseVisibleSourceUri('images:frames')).toEqual({ kind: 'images', dir: 'frames', fps: null });
  });

  it('refuses what it cannot open, saying what is allowed', () => {
    expect(() => parseVisibleSourceUri('simulator:')).toThrow(
      'unknown visible source "simulator:" (allowed: rtsp://host/path, v4l2:/dev/videoN or images:DIR[?fps=N])',
    );
    expect(() => parseVisibleSourceUri('images:x?fps=0')).toThrow('fps must be a number above 0 up to 120');
    expect(() => parseVisibleSourceUri('images:x?pace=fast')).toThrow(
      'unknown parameter "pace" (allowed: fps)',
    );
    expect(() => parseVisibleSourceUri('images:')).toThrow('needs a folder');
    expect(() => parseVisibleSourceUri('v4l2:video0')).toThrow('not a device path');
    expect(() => parseVisibleSourceUri('rtsp://cam/a b')).toThrow('must not contain quotes, spaces or "!"');
  });
});

describe('visibleSource in the configuration', () => {
  const write = (dir: string, camera: object) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ cameras: [camera] }));
  };
  const camera = { id: 'door-1', profile: 'bispectrum-rtsp', source: 'rtsp://cam.local/thermal' };

  it('is accepted for a bi-spectrum profile', () => {
    const dir = tempDir();
    write(dir, { ...camera, visibleSource: 'rtsp://cam.local/visible' });
    const { config } = loadConfig({ dataDir: dir });
    expect(config.cameras[0].visibleSource).toBe('rtsp://cam.local/visible');
  });

  it('is refused for a thermal-only profile, and when it cannot be parsed', () => {
    const dir = tempDir();
    write(dir, {
      ...camera,
      profile: 'lepton35',
      source: 'v4l2:/dev/video0',
      visibleSource: 'v4l2:/dev/video1',
    });
    expect(() => loadConfig({ dataDir: dir })).toThrow(
      /\/cameras\/0\/visibleSource: camera profile "lepton35" has no visible stream; visibleSource is for bi-spectrum profiles \(bispectrum-rtsp\)/,
    );
    write(dir, { ...camera, visibleSource: 'http://cam.local/visible.mjpg' });
    expect(() => loadConfig({ dataDir: dir })).toThrow(/\/cameras\/0\/visibleSource: unknown visible source/);
    write(dir, { ...camera, visibleSource: '' });
    expect(() => loadConfig({ dataDir: dir })).toThrow(/visibleSource/);
  });
});
