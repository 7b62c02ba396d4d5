import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordingWriter, readRecording } from '../../appliance/camera/recording.ts';
import { createSource, parseSourceUri } from '../../appliance/camera/sources.ts';
import { loadProfiles } from '../../appliance/config/load.ts';
import type { RawFrame } from '../../appliance/core/types.ts';
import { tempDir, waitFor } from '../helpers/tempDir.ts';

const profiles = loadProfiles(null);
const lepton = profiles.get('lepton35')!;

/** A recording whose every frame is distinguishable: pixel i of frame f holds (f * 7 + i) mod 65536. */
function writePatternRecording(dir: string, frames: number): void {
  mkdirSync(dir, { recursive: true });
  const writer = new RecordingWriter(dir, {
    profile: lepton.id,
    width: 160,
    height: 120,
    fps: 8.7,
    source: 'test pattern',
  });
  for (let f = 0; f < frames; f++) {
    const counts = new Uint16Array(160 * 120);
    for (let i = 0; i < counts.length; i++) counts[i] = (f * 7 + i) & 0xffff;
    writer.writeFrame(counts);
  }
  writer.close();
}

function collect(uri: string) {
  const source = createSource('cam', parseSourceUri(uri), lepton);
  const frames: RawFrame[] = [];
  const states: string[] = [];
  source.gst.onFrame((frame) => frames.push(frame));
  source.gst.onState((state, reason) => states.push(`${state}: ${reason}`));
  return { source, frames, states };
}

describe('GStreamer recording source', () => {
  const root = tempDir();

  it('replays a recording frame-exact: count, size, first and last frame bytes', async () => {
    const dir = path.join(root, 'pattern');
    writePatternRecording(dir, 25);
    const { source, frames, states } = collect(`recording:${dir}?pace=fast`);
    source.start();
    await waitFor(() => states.some((s) => s.startsWith('ended')), 15_000, 'end of recording');
    source.stop();
    expect(frames).toHaveLength(25);
    expect(frames.map((f) => f.seq)).toEqual([...Array(25).keys()]);
    const bytes = readFileSync(path.join(dir, 'frames.y16'));
    const frameBytes = 160 * 120 * 2;
    const asBytes = (f: RawFrame) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    expect(frames[0].data.length).toBe(160 * 120);
    expect(asBytes(frames[0]).equals(bytes.subarray(0, frameBytes))).toBe(true);
    expect(asBytes(frames[24]).equals(bytes.subarray(24 * frameBytes))).toBe(true);
    // Frame times follow the recorded rate, not the replay speed.
    expect(frames[24].capturedAt - frames[0].capturedAt).toBe(Math.round((24 * 1000) / 8.7));
    expect(source.gst.stats()).toMatchObject({ state: 'ended', framesIn: 25 });
  });

  /** frames.jsonl as `canthus import` writes it: offsets (ms) from 2021-03-22, flat-field flags. */
  function writeFrameTimes(dir: string, offsets: number[], flatField: number[] = []): void {
    const start = Date.UTC(2021, 2, 22, 11, 28, 50);
    const lines = offsets.map((ms, frame) =>
      JSON.stringify({
        frame,
        capturedAt: start + ms,
        timeOnMs: ms,
        lastFfcMs: 0,
        flatField: flatField.includes(frame),
      }),
    );
    writeFileSync(path.join(dir, 'frames.jsonl'), `${lines.join('\n')}\n`);
  }

  it('follows frames.jsonl: recorded intervals, the flat-field gap kept as a gap, flat-field flags', async () => {
    const dir = path.join(root, 'timed-fast');
    writePatternRecording(dir, 5);
    // 114 ms apart, then a 2.1 s flat-field gap (frames 3–4 flagged), as the kiosk clips are.
    writeFrameTimes(dir, [0, 114, 228, 2328, 2442], [3, 4]);
    const { source, frames, states } = collect(`recording:${dir}?pace=fast`);
    source.start();
    await waitFor(() => states.some((s) => s.startsWith('ended')), 15_000, 'end of recording');
    await source.stop();
    expect(frames).toHaveLength(5);
    const steps = frames.slice(1).map((f, i) => f.capturedAt - frames[i].capturedAt);
    // Not the constant 1000 / 8.7 = 115 ms of recording.json.
    expect(steps).toEqual([114, 114, 2100, 114]);
    expect(frames.map((f) => f.flatField)).toEqual([false, false, false, true, true]);
  });

  it('with pace=realtime delivers frames at their recorded times: a gap in the recording is a pause', async () => {
    const dir = path.join(root, 'timed-realtime');
    writePatternRecording(dir, 4);
    writeFrameTimes(dir, [0, 100, 1600, 1700]);
    const { source, frames, states } = collect(`recording:${dir}?pace=realtime`);
    const arrivals: number[] = [];
    source.gst.onFrame(() => arrivals.push(Date.now()));
    source.start();
    await waitFor(() => states.some((s) => s.startsWith('ended')), 15_000, 'end of recording');
    await source.stop();
    expect(frames).toHaveLength(4);
    expect(frames[2].capturedAt - frames[1].capturedAt).toBe(1500);
    // The 1.5 s gap is waited for (a constant-rate replay would deliver the frame after ≈ 115 ms).
    expect(arrivals[2] - arrivals[1]).toBeGreaterThanOrEqual(1400);
    expect(arrivals[3] - arrivals[0]).toBeGreaterThanOrEqual(1600);
  });

  it('with pace=realtime and no frame times, times frames from when the replay started, even when the first is taken late', async () => {
    const dir = path.join(root, 'late-first-frame');
    writePatternRecording(dir, 30);
    const { source, frames } = collect(`recording:${dir}?pace=realtime`);
    const arrivals: number[] = [];
    source.gst.onFrame(() => arrivals.push(Date.now()));
    source.start();
    // A busy start: the main thread takes no frame for 0.7 s while GStreamer plays the replay on.
    const busyUntil = Date.now() + 700;
    while (Date.now() < busyUntil) {
      // spinning, as a start-up does on a loaded machine
    }
    await waitFor(() => frames.length >= 20, 15_000, '20 frames');
    await source.stop();
    // Caught up, no frame's time is after its arrival, as times counted from the late first frame
    // would be (by the 0.7 s it was taken late); how far before depends only on how busy the machine is.
    for (let i = 12; i < 20; i++) {
      expect(frames[i].capturedAt - arrivals[i], `frame ${i}`).toBeLessThanOrEqual(1);
    }
    // Times still go by the recorded rate: never more than one frame interval (115 ms) apart.
    for (let i = 1; i < 20; i++) {
      const step = frames[i].capturedAt - frames[i - 1].capturedAt;
      expect(step, `frame ${i}`).toBeGreaterThanOrEqual(0);
      expect(step, `frame ${i}`).toBeLessThanOrEqual(Math.round(1000 / 8.7) + 1);
    }
  });

  it('refuses frames.jsonl whose line count does not match the frames, naming the file', () => {
    const dir = path.join(root, 'timed-short');
    writePatternRecording(dir, 4);
    writeFrameTimes(dir, [0, 114, 228]);
    expect(() => createSource('cam', parseSourceUri(`recording:${dir}`), lepton)).toThrow(
      /frames\.jsonl has 3 line\(s\) but recording\.json describes 4 frames/,
    );
    expect(() => createSource('cam', parseSourceUri(`recording:${dir}`), lepton)).toThrow(dir);
    writeFrameTimes(dir, [0, 114, 100, 300]);
    expect(() => createSource('cam', parseSourceUri(`recording:${dir}`), lepton)).toThrow(
      /frames\.jsonl line 3: "capturedAt" .* goes back in time/,
    );
  });

  it('refuses a truncated recording and says how much is there', () => {
    const dir = path.join(root, 'truncated');
    writePatternRecording(dir, 4);
    truncateSync(path.join(dir, 'frames.y16'), 160 * 120 * 2 * 3 + 100);
    expect(() => readRecording(dir)).toThrow(
      /truncated: frames\.y16 has 115300 bytes.*4 frames.*3 whole frames and 100 bytes of a partial one/,
    );
    expect(() => createSource('cam', parseSourceUri(`recording:${dir}`), lepton)).toThrow(/truncated/);
  });

  it('refuses a recording that does not match the camera profile', () => {
    const dir = path.join(root, 'other-profile');
    writePatternRecording(dir, 2);
    expect(() => createSource('cam', parseSourceUri(`recording:${dir}`), profiles.get('flir-a640')!)).toThrow(
      /is 160×120 \(profile "lepton35"\) but camera "cam" uses profile "flir-a640" \(640×512\)/,
    );
  });

  it('never overwrites an existing recording', () => {
    const dir = path.join(root, 'existing');
    writePatternRecording(dir, 1);
    expect(
      () => new RecordingWriter(dir, { profile: 'lepton35', width: 160, height: 120, fps: 8.7, source: 'x' }),
    ).toThrow(/already holds a recording/);
    expect(readRecording(dir).meta.frameCount).toBe(1);
  });
});

describe('live GStreamer sources that fail', () => {
  it('reports a missing camera device as offline and keeps retrying', async () => {
    const { source, states } = collect('v4l2:/dev/video-canthus-test-missing');
    source.start();
    await waitFor(() => source.gst.stats().restarts >= 1, 5000, 'a retry');
    source.stop();
    expect(states[0]).toBe(
      'offline: camera device /dev/video-canthus-test-missing does not exist (unplugged?)',
    );
    expect(source.gst.stats().state).toBe('offline');
  });

  it('reports an unreachable RTSP camera as offline with the GStreamer error', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const { source, states } = collect(`rtsp://127.0.0.1:${port}/thermal`);
    source.start();
    await waitFor(() => states.some((s) => s.startsWith('offline')), 10_000, 'offline');
    source.stop();
    server.close();
    expect(states.find((s) => s.startsWith('offline'))).toMatch(/offline: .+\(rtspsrc\d*\)/);
  });

  it('recovers when a live stream drops and comes back, without a new pipeline', async () => {
    const frameBytes = 160 * 120 * 2;
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      const frame = Buffer.alloc(frameBytes, connections);
      let sent = 0;
      const timer = setInterval(() => {
        socket.write(frame);
        if (++sent === 5) {
          // The first connection drops after five frames (an unplugged bridge); later ones keep going.
          if (connections === 1) {
            clearInterval(timer);
            socket.destroy();
          }
        }
      }, 30);
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const { source, frames, states } = collect(`tcp://127.0.0.1:${port}`);
    source.start();
    await waitFor(() => frames.some((f) => f.data[0] === 0x0202), 20_000, 'frames after reconnecting');
    source.stop();
    server.close();
    expect(frames.filter((f) => f.data[0] === 0x0101).length).toBeGreaterThanOrEqual(1);
    expect(states.some((s) => s.startsWith('offline'))).toBe(true);
    expect(states.at(-1)).toBe('online: frames arriving');
    expect(source.gst.stats().restarts).toBeGreaterThanOrEqual(1);
  });
});

describe('source URIs', () => {
  it('names what is allowed when a source is unknown or malformed', () => {
    expect(() => parseSourceUri('usb:0')).toThrow(
      /unknown source "usb:0" \(allowed: simulator:, recording:DIR, v4l2/,
    );
    expect(() => parseSourceUri('simulator:?speed=2')).toThrow(/unknown parameter "speed"/);
    expect(() => parseSourceUri('simulator:?fever-rate=2')).toThrow(
      /fever-rate must be a number from 0 to 1, got "2"/,
    );
    expect(() => parseSourceUri('recording:x?pace=slow')).toThrow(/pace must be "realtime" or "fast"/);
    expect(() => parseSourceUri('tcp://host')).toThrow(/not tcp:\/\/host:port/);
  });
  it('parses each form', () => {
    expect(parseSourceUri('v4l2:/dev/video2')).toEqual({ kind: 'v4l2', device: '/dev/video2' });
    expect(parseSourceUri('tcp://127.0.0.1:5000')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5000 });
    expect(parseSourceUri('simulator:?seed=4&people=3')).toMatchObject({
      kind: 'simulator',
      options: { seed: 4, people: 3 },
    });
  });
});
