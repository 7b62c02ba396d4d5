/**
 * A bi-spectrum camera for tests that need one running for a while (live video views, the
 * registration page): a thermal recording of a 22 °C room with a 35 °C blackbody and a warm
 * figure, and a visible JPEG sequence (a portrait), replayed in real time through GStreamer; a
 * thermal-only simulated camera beside it. The site allows visible images on its screens
 * (privacy.showVisibleImages) unless told otherwise.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { RecordingWriter } from '../../appliance/camera/recording.ts';
import { applyHomography, type Homography } from '../../calibration/homography.ts';

/** NASA portrait of Eileen Collins, public domain (test/fixtures/visible/README.md). */
export const FIXTURE = new URL('../fixtures/visible/astronaut-eileen-collins-320.jpg', import.meta.url)
  .pathname;

export const THERMAL = { width: 256, height: 192, fps: 9 };
export const VISIBLE = { width: 320, height: 240, fps: 10 };
/** The site's true mapping visible → thermal (mild scale, shift and perspective). */
export const TRUE_H: Homography = [0.9, 0.02, 5, -0.01, 0.92, 8, 0.0001, 0.00005, 1];

export const PROFILE = {
  id: 'bispectrum-test',
  name: 'Bi-spectrum test camera (256x192 thermal + 320x240 visible)',
  width: THERMAL.width,
  height: THERMAL.height,
  fps: THERMAL.fps,
  pixelFormat: 'GRAY16_LE',
  radiometry: { kind: 'linear', gain: 0.1, offsetC: -273.15 },
  netdC: 0.05,
  accuracyC: 0.5,
  flatField: null,
  minFacePx: 30,
  visible: VISIBLE,
  defaultSource: 'rtsp://camera.local/thermal',
};

/** The portrait's top 320×240, as the visible camera sees it (RGB). */
export async function visibleFixture(): Promise<{ rgb: Buffer; jpeg: Buffer }> {
  const image = sharp(FIXTURE).extract({ left: 0, top: 0, width: VISIBLE.width, height: VISIBLE.height });
  return {
    rgb: await image.clone().removeAlpha().raw().toBuffer(),
    jpeg: await image.clone().jpeg({ quality: 92 }).toBuffer(),
  };
}

/**
 * Writes the profile, the recordings and `config.json` into `root`/data; returns the data folder.
 * `seconds` of replay: the video keeps coming that long.
 */
export async function writeBispectrumSite(
  root: string,
  options: { seconds: number; visibleAllowed?: boolean; extra?: Record<string, unknown> },
): Promise<string> {
  const dataDir = path.join(root, 'data');
  mkdirSync(path.join(dataDir, 'cameras'), { recursive: true });
  writeFileSync(path.join(dataDir, 'cameras', `${PROFILE.id}.json`), JSON.stringify(PROFILE));
  const recording = path.join(root, 'thermal');
  const images = path.join(root, 'visible');
  thermalRecording(recording, options.seconds);
  mkdirSync(images, { recursive: true });
  const { jpeg } = await visibleFixture();
  for (let i = 0; i < options.seconds * VISIBLE.fps; i++)
    writeFileSync(path.join(images, `${String(i).padStart(5, '0')}.jpg`), jpeg);
  writeFileSync(
    path.join(dataDir, 'config.json'),
    JSON.stringify({
      applianceId: 'bispectrum-video-test',
      privacy: { showVisibleImages: options.visibleAllowed !== false },
      cameras: [
        {
          id: 'door-1',
          profile: PROFILE.id,
          source: `recording:${recording}?pace=realtime`,
          visibleSource: `images:${images}?fps=${VISIBLE.fps}`,
          reference: { setpointC: 35, emissivity: 0.98, region: null, warmupS: 0, stableForS: 1 },
        },
        { id: 'lobby-1', profile: 'simulator', source: 'simulator:?seed=3' },
      ],
      ...options.extra,
    }),
  );
  return dataDir;
}

/** The test profile's raw counts of a temperature (0.1 K per count). */
export const counts = (celsius: number) => Math.round((celsius + 273.15) / 0.1);

/** A room, a blackbody at the lower right and a warm figure in the middle, with sensor noise. */
function thermalRecording(dir: string, seconds: number): void {
  mkdirSync(dir, { recursive: true });
  const writer = new RecordingWriter(dir, {
    profile: PROFILE.id,
    ...THERMAL,
    source: 'synthetic bi-spectrum test',
  });
  const { width, height } = THERMAL;
  let seed = 11;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648 - 0.5) * 0.1;
  };
  for (let f = 0; f < seconds * THERMAL.fps; f++) {
    const frame = new Uint16Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let c = 22 + (y / height) * 1.5;
        if (x >= 226 && x < 246 && y >= 150 && y < 170) c = 35;
        else if (((x - 128) / 40) ** 2 + ((y - 90) / 55) ** 2 <= 1) c = 33.5;
        frame[y * width + x] = counts(c + noise());
      }
    }
    writer.writeFrame(frame);
  }
  writer.close();
}

/** Six marked points in both images (to 0.2 px): a registration that passes. */
export function markedPairs() {
  const visible = [
    { x: 30, y: 25 },
    { x: 250, y: 20 },
    { x: 140, y: 110 },
    { x: 20, y: 180 },
    { x: 255, y: 175 },
    { x: 200, y: 70 },
  ];
  const jitter = [0.2, -0.1, 0.15, -0.2, 0.05, -0.15];
  return visible.map((v, i) => {
    const t = applyHomography(TRUE_H, v);
    return { visible: v, thermal: { x: t.x + jitter[i], y: t.y - jitter[(i + 2) % 6] } };
  });
}
