/**
 * Persons across frames: each face of a frame is given to the person it continues, or starts a new
 * one. Pure state, no I/O, one tracker per camera.
 *
 * - Motion: each track predicts where its face is now from a constant-velocity model (centre and
 *   size; faces grow as people approach). Pairing compares a detection with the *prediction*, not
 *   with the last position, so two people passing each other keep their ids: at the crossing each
 *   prediction has already moved on in its own direction.
 * - Pairing cost: centre distance in face widths, size change and (1 − IoU); pairs outside the gate
 *   are impossible. Minimum-cost assignment (Hungarian) over all pairs of a frame, confirmed persons
 *   first, then tentative tracks.
 * - A track becomes a person (gets its `personId`) after a few detections, so a single spurious
 *   detection never becomes a screening event.
 * - A head coming up: a person whose box was their neck and chest (head bowed) continues from a head
 *   box right on top of it when that box is no longer found; a person whose box was head and shoulders
 *   (leaning in) continues from a face in its top when that box is no longer found.
 * - Box jumps: a track remembers its last few observations; a detection that continues an earlier one
 *   (the detector boxed a chin or head-and-torso for a frame) pairs with it at a small penalty and a
 *   stricter gate, and the track continues from there, so one odd box does not split a person in two.
 * - Misses: a person survives unseen frames up to `endAfterUnseenMs`. Frames frozen by a flat-field
 *   correction do not count as unseen time (the person did not leave, the sensor was blind), so an FFC
 *   neither ends nor splits a track; the prediction still moves on over the frozen time.
 * - Coming back: a person who is gone — unseen too long, or out at the image's edge — is *closing*, not
 *   ended, until `rejoinWithinMs` after they were last seen. A face that appears meanwhile where they
 *   were last seen, at their size (a strict gate: no prediction, no widening), continues them: someone
 *   stepping out at the edge and back, or whose bowed or turned head was lost for a while, stays one
 *   person with one `end`. Only then is the person reported `ended`. A new visitor comes from further
 *   away (a smaller face) or elsewhere, and starts a new track; once that track has been followed for a
 *   few frames the person before ends at once (the next visitor has stepped up).
 */
import type { Box } from '../core/types.ts';
import { assignMinimumCost, FORBIDDEN } from './assignment.ts';

export interface PersonTrackerOptions {
  cameraId: string;
  /** A person ends after being unseen this long (frozen flat-field frames do not count), ms. */
  endAfterUnseenMs?: number;
  /** Detections needed before a track is a person. */
  confirmAfterHits?: number;
  /** A tentative track unseen this long is dropped silently, ms. */
  dropTentativeAfterUnseenMs?: number;
  /** Largest distance between predicted and observed face centre, in face widths (grows while unseen). */
  maxCentreDistanceFaceWidths?: number;
  /** Largest change of face size between prediction and observation (ratio ≥ 1). */
  maxSizeRatio?: number;
  /** Longest time a motion prediction is extrapolated, ms (beyond it the person is assumed to stand). */
  maxPredictionMs?: number;
  /**
   * Further evidence a track needs, besides `confirmAfterHits` detections, before it becomes a person
   * (the screening stage asks for a face seen consistently at the measurement point). Asked once per
   * frame for each tentative track with enough hits; until it answers true the track stays tentative.
   */
  confirmWhen?: ((track: Track) => boolean) | null;
  /**
   * A gone person can be continued by a face at the same place and size until this long after they were
   * last seen (frozen flat-field frames do not count), ms; their `end` waits until then. 0: a person
   * ends as soon as they are gone.
   */
  rejoinWithinMs?: number;
  /**
   * Asked before a closing person is continued by detection `detection` (index into the frame's boxes)
   * that passed the place and size gate: the screening stage vetoes a face of a clearly different warmth.
   */
  mayRejoin?: ((track: Track, detection: number) => boolean) | null;
  /**
   * The number the first person gets (`<camera>-<n>`). A camera's processing worker started again
   * after a crash goes on from the last number, so no two persons of one run share an id.
   */
  firstPersonNumber?: number;
}

export const TRACKER_DEFAULTS = {
  endAfterUnseenMs: 1500,
  confirmAfterHits: 3,
  dropTentativeAfterUnseenMs: 400,
  maxCentreDistanceFaceWidths: 0.8,
  maxSizeRatio: 1.4,
  maxPredictionMs: 1500,
  confirmWhen: null,
  rejoinWithinMs: 2000,
  mayRejoin: null,
  firstPersonNumber: 1,
} as const;

export interface Track {
  /** Internal number of the track (tentative tracks included). */
  readonly trackNumber: number;
  /** Set when the track is confirmed as a person: `${cameraId}-${n}`, unique per tracker (per run). */
  personId: string | null;
  /** Last observed face box. */
  box: Box;
  firstSeenAt: number;
  lastSeenAt: number;
  hits: number;
  /** Unseen time since the last detection, flat-field frames excluded, ms. */
  unseenMs: number;
  /** Centre and width velocity, px per ms. */
  velocity: { x: number; y: number; width: number };
}

export interface TrackerUpdate {
  /** For each detection of the frame (same order), the track it was given to. */
  tracks: Track[];
  /** Tracks that became persons in this frame. */
  confirmed: Track[];
  /** Persons that ended in this frame (gone, and not back within `rejoinWithinMs`). */
  ended: Track[];
  /** Closing persons continued in this frame by a face where they were last seen. */
  rejoined: Track[];
}

/**
 * Observations a track remembers besides its last one. A detector box that jumps for one frame (a chin,
 * a hand, head and torso together) must not end the person: the next frame's face is also compared with
 * where the face was before the jump, and continues the track from there.
 */
const RECENT_OBSERVATIONS = 3;
/**
 * The last observation counts as a jump of the detector's box when its centre moved more than this
 * many face widths from the one before (walking moves a face ≈ 0.1–0.3 widths a frame), or its height
 * changed by more than the size gate.
 */
const JUMP_FACE_WIDTHS = 0.5;
/** Cost added to a pairing made through an earlier observation rather than the prediction. */
const EARLIER_OBSERVATION_PENALTY = 0.25;
/** The gate for a pairing through an earlier observation, as a share of the usual one (stricter). */
const EARLIER_OBSERVATION_GATE = 0.6;

/**
 * A face continues a closing person when its centre lies within this many face widths of one of the
 * person's last observations (no prediction: someone coming back reappears where they were).
 */
const REJOIN_FACE_WIDTHS = 0.8;

/** A box that holds this share of a smaller one continues its track (see `nested`)… */
const NESTED_SHARE = 0.8;
/** …when their sizes differ by at most this factor (a face in a head-and-shoulders box). */
const NESTED_SIZE_RATIO = 2.2;

interface Observation {
  box: Box;
  at: number;
  velocity: Track['velocity'];
}

/** How much a new velocity observation moves the estimate (exponential smoothing). */
const VELOCITY_SMOOTHING = 0.5;
/** Largest believable change of face width, in widths per second. */
const MAX_GROWTH_PER_S = 0.5;

export class PersonTracker {
  readonly #o: Required<PersonTrackerOptions>;
  #tracks: Track[] = [];
  /** Persons gone from view, waiting `rejoinWithinMs` for a face that continues them before they end. */
  #closing: Track[] = [];
  #nextTrackNumber = 1;
  #nextPersonNumber = 1;
  #lastFrameAt: number | null = null;
  #imageWidth = Number.POSITIVE_INFINITY;
  /** Each track's observations before its last one, newest last (see RECENT_OBSERVATIONS). */
  readonly #earlier = new WeakMap<Track, Observation[]>();

  constructor(options: PersonTrackerOptions) {
    this.#o = { ...TRACKER_DEFAULTS, ...options };
    this.#nextPersonNumber = this.#o.firstPersonNumber;
    if (!(this.#o.confirmAfterHits >= 1))
      throw new RangeError(`confirmAfterHits must be ≥ 1, got ${this.#o.confirmAfterHits}`);
    if (!(this.#o.endAfterUnseenMs > 0))
      throw new RangeError(`endAfterUnseenMs must be > 0, got ${this.#o.endAfterUnseenMs}`);
    if (!(this.#o.maxSizeRatio > 1))
      throw new RangeError(`maxSizeRatio must be > 1, got ${this.#o.maxSizeRatio}`);
    if (!(this.#o.rejoinWithinMs >= 0))
      throw new RangeError(`rejoinWithinMs must be ≥ 0, got ${this.#o.rejoinWithinMs}`);
  }

  /** Open tracks, tentative ones included (not the closing persons: they are not in view). */
  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /** Persons gone from view that a face may still continue; their `end` is pending. */
  get closing(): readonly Track[] {
    return this.#closing;
  }

  /** Where the track's face is expected at `at` (constant velocity, bounded horizon). */
  predict(track: Track, at: number): Box {
    const dt = Math.min(Math.max(0, at - track.lastSeenAt), this.#o.maxPredictionMs);
    const [x, y, w, h] = track.box;
    const cx = x + w / 2 + track.velocity.x * dt;
    const cy = y + h / 2 + track.velocity.y * dt;
    const width = clamp(w + track.velocity.width * dt, w / 2, w * 2);
    const height = (width * h) / w;
    return [cx - width / 2, cy - height / 2, width, height];
  }

  /**
   * One frame's detections. `frozen`: the frame is a flat-field repeat (its detections are ignored
   * and the time does not count as unseen).
   */
  update(
    at: number,
    boxes: readonly Box[],
    options: { frozen?: boolean; imageWidth?: number } = {},
  ): TrackerUpdate {
    this.#imageWidth = options.imageWidth ?? this.#imageWidth;
    const dt = this.#lastFrameAt === null ? 0 : Math.max(0, at - this.#lastFrameAt);
    this.#lastFrameAt = at;
    if (options.frozen) return { tracks: [], confirmed: [], ended: [], rejoined: [] };

    const assigned: (Track | null)[] = new Array(boxes.length).fill(null);
    const free = boxes.map((_, i) => i);
    const rejoined: Track[] = [];
    // Persons (and tracks seen often enough to be one, still waiting for `confirmWhen`) first: a new
    // tentative track must not take a known person's face. Then persons who just left, coming back
    // where they were; then tentative tracks.
    const groups: [Track[], (track: Track, detection: number) => number][] = [
      [
        this.#tracks.filter((t) => this.#established(t)),
        (t, d) => this.#pairCost(t, this.predict(t, at), boxes[d]),
      ],
      [this.#closing, (t, d) => this.#rejoinCost(t, boxes[d], d)],
      [
        this.#tracks.filter((t) => !this.#established(t)),
        (t, d) => this.#pairCost(t, this.predict(t, at), boxes[d]),
      ],
    ];
    for (const [group, pairCost] of groups) {
      if (group.length === 0 || free.length === 0) continue;
      const cost = group.map((track) => free.map((d) => pairCost(track, d)));
      const pairing = assignMinimumCost(cost);
      const taken = new Set<number>();
      pairing.forEach((column, row) => {
        if (column < 0) return;
        const detection = free[column];
        const track = group[row];
        if (group === this.#closing) {
          // Back in view: open again, moving on from here (the motion that took them out is over).
          track.velocity = { x: 0, y: 0, width: 0 };
          rejoined.push(track);
        }
        this.#observe(track, boxes[detection], at);
        assigned[detection] = track;
        taken.add(detection);
      });
      for (let k = free.length - 1; k >= 0; k--) if (taken.has(free[k])) free.splice(k, 1);
    }
    if (rejoined.length) {
      this.#closing = this.#closing.filter((t) => !rejoined.includes(t));
      this.#tracks.push(...rejoined);
    }
    // A box nested in an established track's last box (or holding it), left over by the pairing: the
    // detector boxed the same head differently (face only, or head with hair or shoulders) — beyond the
    // size gate, but no new person. The track continues from it rather than a second track starting
    // on the same person. Only a track seen in the frame before: where a person was a moment ago, a
    // nested box may be the next person stepping up.
    this.#continueFromFree(
      boxes,
      free,
      assigned,
      at,
      false,
      (t, d) => this.#established(t) && t.unseenMs === 0 && nested(t.box, boxes[d]),
    );
    // A face in the top of a person's much larger box (head and shoulders, boxed while they leant in:
    // clearly wider than tall, not cut by the image's side edge, whose shape then says nothing), while
    // that box is not found: the detector now boxes the head alone. The person continues from the
    // face, so that a later box on the shoulder below it is a track of its own (their body, never a
    // person) rather than the person's continuation while the face becomes a second person.
    this.#continueFromFree(
      boxes,
      free,
      assigned,
      at,
      true,
      (t, d) =>
        t.personId !== null &&
        !this.#cut(t.box) &&
        headInTop(boxes[d], t.box) &&
        (this.#o.mayRejoin === null || this.#o.mayRejoin(t, d)),
    );
    // A head right on top of a person's box, in the frame that box is no longer found: the person had
    // their head bowed and the detector boxed their neck and chest; now the head comes up and is boxed
    // instead (smaller at first: the hair). The person continues from the head, moving on from there.
    this.#continueFromFree(
      boxes,
      free,
      assigned,
      at,
      true,
      (t, d) =>
        t.personId !== null &&
        t.unseenMs === 0 &&
        headOnTop(boxes[d], t.box) &&
        (this.#o.mayRejoin === null || this.#o.mayRejoin(t, d)),
    );
    const seen = new Set(assigned.filter((t): t is Track => t !== null));
    for (const track of this.#tracks) if (!seen.has(track)) track.unseenMs += dt;
    for (const track of this.#closing) track.unseenMs += dt;

    for (const d of free) {
      const track: Track = {
        trackNumber: this.#nextTrackNumber++,
        personId: null,
        box: boxes[d],
        firstSeenAt: at,
        lastSeenAt: at,
        hits: 1,
        unseenMs: 0,
        velocity: { x: 0, y: 0, width: 0 },
      };
      this.#tracks.push(track);
      assigned[d] = track;
    }

    const confirmed: Track[] = [];
    for (const track of this.#tracks) {
      if (
        track.personId === null &&
        track.hits >= this.#o.confirmAfterHits &&
        (this.#o.confirmWhen === null || this.#o.confirmWhen(track))
      ) {
        track.personId = `${this.#o.cameraId}-${this.#nextPersonNumber++}`;
        confirmed.push(track);
      }
    }
    this.#tracks = this.#tracks.filter((track) => {
      if (!this.#established(track)) return track.unseenMs <= this.#o.dropTentativeAfterUnseenMs;
      // Last seen cut by the left or right edge and moving out: the person has left the picture. The
      // unseen allowance is for misses in the middle; at the edge it would let the track take the
      // next person coming in there (a closing person is continued only through the strict gate).
      const leaving = this.#leaving(track);
      if (track.unseenMs > this.#o.endAfterUnseenMs || (leaving && track.unseenMs > 0)) {
        // A track that never became a person leaves silently.
        if (track.personId !== null) this.#closing.push(track);
        return false;
      }
      return true;
    });
    // The wait ends early when someone else has stepped up since: a track seen first after the person
    // left and followed for a few frames is the next visitor, and the person before will not come back
    // through them (on a kiosk clip the next visitor's face, nearer by a step, would otherwise fit).
    const ended = this.#closing.filter(
      (closing) =>
        closing.unseenMs > this.#o.rejoinWithinMs ||
        this.#tracks.some((t) => t.firstSeenAt > closing.lastSeenAt && this.#established(t)),
    );
    if (ended.length) this.#closing = this.#closing.filter((track) => !ended.includes(track));
    return { tracks: assigned as Track[], confirmed, ended, rejoined };
  }

  /** The source ended: every person ends now (closing ones too), tentative tracks are dropped. */
  flush(): Track[] {
    const ended = [...this.#closing, ...this.#tracks.filter((t) => t.personId !== null)];
    this.#tracks = [];
    this.#closing = [];
    return ended;
  }

  /**
   * A person, or a track with enough detections to be one that still waits for `confirmWhen`: it is
   * tracked like a person (paired first, held through misses) so that its evidence is not split.
   */
  #established(track: Track): boolean {
    return track.personId !== null || track.hits >= this.#o.confirmAfterHits;
  }

  #leaving(track: Track): boolean {
    const [x, , w] = track.box;
    return (x <= 0.5 && track.velocity.x < 0) || (x + w >= this.#imageWidth - 0.5 && track.velocity.x > 0);
  }

  /**
   * The pairing cost through the prediction, or — when cheaper — through one of the track's earlier
   * observations (a one-frame jump of the detector's box), with a penalty and a stricter gate.
   */
  #pairCost(track: Track, predicted: Box, detection: Box): number {
    let best = this.#pairCostTo(track, predicted, detection, 1);
    if (!this.#lastJumped(track)) return best;
    for (const earlier of this.#earlier.get(track) ?? []) {
      const cost = this.#pairCostTo(track, earlier.box, detection, EARLIER_OBSERVATION_GATE, earlier.box);
      if (cost !== FORBIDDEN && (best === FORBIDDEN || cost + EARLIER_OBSERVATION_PENALTY < best))
        best = cost + EARLIER_OBSERVATION_PENALTY;
    }
    return best;
  }

  /**
   * Boxes left over by the pairing (`free`, last first) that continue an open track not yet given a
   * box in this frame, the first for which `continues(track, detection)` holds; `restart`: the track
   * moves on from the new box with no velocity (its box changed kind, not place). Taken boxes leave
   * `free`.
   */
  #continueFromFree(
    boxes: readonly Box[],
    free: number[],
    assigned: (Track | null)[],
    at: number,
    restart: boolean,
    continues: (track: Track, detection: number) => boolean,
  ): void {
    for (let k = free.length - 1; k >= 0; k--) {
      const d = free[k];
      const taken = new Set(assigned);
      const track = this.#tracks.find((t) => !taken.has(t) && continues(t, d));
      if (!track) continue;
      if (restart) track.velocity = { x: 0, y: 0, width: 0 };
      this.#observe(track, boxes[d], at);
      assigned[d] = track;
      free.splice(k, 1);
    }
  }

  /**
   * The cost of continuing a closing person with a detection: against their last observations (no
   * prediction), centre within REJOIN_FACE_WIDTHS, size within `maxSizeRatio` (by height when a box is
   * cut by the side edge, as a face stepping out and back is), and not vetoed by `mayRejoin`.
   */
  #rejoinCost(track: Track, detection: Box, index: number): number {
    let best = FORBIDDEN;
    for (const earlier of [{ box: track.box }, ...(this.#earlier.get(track) ?? [])]) {
      const [ex, ey, ew, eh] = earlier.box;
      const [dx, dy, dw, dh] = detection;
      const byHeight = this.#cut(earlier.box) || this.#cut(detection);
      const sizeRatio = byHeight ? Math.max(dh / eh, eh / dh) : Math.max(dw / ew, ew / dw);
      if (!(sizeRatio <= this.#o.maxSizeRatio)) continue;
      const centreDistance =
        Math.hypot(dx + dw / 2 - (ex + ew / 2), dy + dh / 2 - (ey + eh / 2)) / Math.max(ew, dw);
      if (centreDistance > REJOIN_FACE_WIDTHS) continue;
      best = Math.min(best, centreDistance + 0.5 * Math.log(sizeRatio));
    }
    if (best === FORBIDDEN || (this.#o.mayRejoin !== null && !this.#o.mayRejoin(track, index)))
      return FORBIDDEN;
    return best;
  }

  /** A box touching the left or right edge of the image (a face cut by it). */
  #cut(box: Box): boolean {
    return box[0] <= 0.5 || box[0] + box[2] >= this.#imageWidth - 0.5;
  }

  /** Whether the track's last observation jumped away from the one before (see JUMP_FACE_WIDTHS). */
  #lastJumped(track: Track): boolean {
    const before = this.#earlier.get(track)?.at(-1);
    if (!before) return false;
    if (centreGap(before.box, track.box) > JUMP_FACE_WIDTHS * Math.max(before.box[2], track.box[2]))
      return true;
    // A box that shrank or grew by more than a face does between frames (a chin-and-neck box under a
    // face, its top 30 px lower, moves its centre less than half a width but is no face either; a
    // head-and-shoulders box round a face, about as high but half as wide again, neither). Widths only
    // away from the side edges: a face cut by the edge narrows while its height stays.
    const ratio = (a: number, b: number) => Math.max(a / b, b / a);
    if (ratio(before.box[3], track.box[3]) > this.#o.maxSizeRatio) return true;
    return (
      !this.#cut(before.box) &&
      !this.#cut(track.box) &&
      ratio(before.box[2], track.box[2]) > this.#o.maxSizeRatio
    );
  }

  #pairCostTo(track: Track, predicted: Box, detection: Box, gateShare: number, sizeFrom = track.box): number {
    const [px, py, pw, ph] = predicted;
    const [dx, dy, dw, dh] = detection;
    // A face entering or leaving at the left or right edge is cut: its width shrinks while its
    // height does not, so sizes are compared by height there. Detected boxes also jump in size (a
    // neighbour touching the outline): compare with the last observed size too and keep the kinder
    // ratio. A real face does not change size by more than `maxSizeRatio` between frames; an entering
    // (far, small) face where a leaving (near, large) one was is another person.
    const byHeight = this.#cut(detection) || this.#cut(sizeFrom);
    const size = (box: Box) => (byHeight ? box[3] : box[2]);
    const ratio = (a: number, b: number) => Math.max(a / b, b / a);
    const sizeRatio = Math.min(
      ratio(size(detection), size(predicted)),
      ratio(size(detection), size(sizeFrom)),
    );
    if (!(sizeRatio <= this.#o.maxSizeRatio)) return FORBIDDEN;
    const centreDistance =
      Math.hypot(dx + dw / 2 - (px + pw / 2), dy + dh / 2 - (py + ph / 2)) / Math.max(pw, dw);
    // The longer a person is unseen, the less certain the prediction: widen the gate with time.
    const gate = gateShare * this.#o.maxCentreDistanceFaceWidths * (1 + track.unseenMs / 1000);
    if (centreDistance > gate) return FORBIDDEN;
    return centreDistance + 0.5 * Math.log(sizeRatio) + 0.5 * (1 - iou(predicted, detection));
  }

  #observe(track: Track, box: Box, at: number): void {
    // Continue from the observation the box continues: the last one, or an earlier one when the last
    // was a jump of the detector's box (its velocity is then forgotten, not smoothed in).
    const earlier = this.#earlier.get(track) ?? [];
    const last: Observation = { box: track.box, at: track.lastSeenAt, velocity: track.velocity };
    const from = this.#lastJumped(track)
      ? [...earlier, last].reduce((a, b) => (centreGap(b.box, box) < centreGap(a.box, box) ? b : a))
      : last;
    if (from !== last) track.velocity = from.velocity;
    earlier.push(last);
    if (earlier.length > RECENT_OBSERVATIONS) earlier.shift();
    this.#earlier.set(track, earlier);
    const dt = at - from.at;
    if (dt > 0) {
      const [x, y, w, h] = from.box;
      const observed = {
        x: (box[0] + box[2] / 2 - (x + w / 2)) / dt,
        y: (box[1] + box[3] / 2 - (y + h / 2)) / dt,
        width: (box[2] - w) / dt,
      };
      const k = track.hits === 1 ? 1 : VELOCITY_SMOOTHING;
      track.velocity = {
        x: track.velocity.x + k * (observed.x - track.velocity.x),
        y: track.velocity.y + k * (observed.y - track.velocity.y),
        width: track.velocity.width + k * (observed.width - track.velocity.width),
      };
      // People approach at walking pace: a face grows or shrinks by well under half its width per
      // second. A faster change is the detector's box jumping, not motion.
      const maxGrowth = (MAX_GROWTH_PER_S * w) / 1000;
      track.velocity.width = clamp(track.velocity.width, -maxGrowth, maxGrowth);
    }
    track.box = box;
    track.lastSeenAt = at;
    track.hits++;
    track.unseenMs = 0;
  }
}

/**
 * One box inside the other, about the same place: the smaller one's centre lies in the larger one, at
 * least NESTED_SHARE of the smaller one lies in the larger, and the sizes differ by at most
 * NESTED_SIZE_RATIO.
 */
function nested(a: Box, b: Box): boolean {
  const [small, large] = a[2] * a[3] <= b[2] * b[3] ? [a, b] : [b, a];
  if (Math.max(large[2] / small[2], large[3] / small[3]) > NESTED_SIZE_RATIO) return false;
  const cx = small[0] + small[2] / 2;
  const cy = small[1] + small[3] / 2;
  if (cx < large[0] || cx > large[0] + large[2] || cy < large[1] || cy > large[1] + large[3]) return false;
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  return ix > 0 && iy > 0 && ix * iy >= NESTED_SHARE * small[2] * small[3];
}

/**
 * `head` sits on top of `body`: its bottom within a third of body's height above body's top (or up to
 * half of it below: overlapping), its top above body's top, its centre over body, and not wider than
 * 1.2 × body (a head on a neck-and-chest box).
 */
function headOnTop(head: Box, body: Box): boolean {
  const [hx, hy, hw, hh] = head;
  const [bx, by, bw, bh] = body;
  const bottom = hy + hh;
  const cx = hx + hw / 2;
  return (
    bottom >= by - bh / 3 && bottom <= by + bh / 2 && hy < by && cx >= bx && cx <= bx + bw && hw <= 1.2 * bw
  );
}

/** A head-and-shoulders box is at least this many times as wide as the face in its top (see headInTop)… */
const HEAD_IN_BOX_WIDTHS = 2;
/**
 * …and clearly wider than tall: at most this share of its width high (the kiosk clip's were 0.72–0.76).
 * A face box near the camera is about square or taller (hair to chin); a simulated one cut by the
 * image's edge read 0.9, and a far person's face in its top must not take it over.
 */
const HEAD_AND_SHOULDERS_ASPECT = 0.8;

/**
 * `head` is the head of the much larger box `body` (head and shoulders: clearly wider than tall), at
 * least HEAD_IN_BOX_WIDTHS times narrower, its centre within body's width, its top within half its height of body's top and its
 * bottom in body's upper half. A face beside the box, or low in it (a hand, the chest), is not.
 */
function headInTop(head: Box, body: Box): boolean {
  const [hx, hy, hw, hh] = head;
  const [bx, by, bw, bh] = body;
  const cx = hx + hw / 2;
  return (
    bh <= HEAD_AND_SHOULDERS_ASPECT * bw &&
    bw >= HEAD_IN_BOX_WIDTHS * hw &&
    cx >= bx &&
    cx <= bx + bw &&
    Math.abs(hy - by) <= hh / 2 &&
    hy + hh <= by + bh / 2
  );
}

/** Distance between two boxes' centres, px. */
function centreGap(a: Box, b: Box): number {
  return Math.hypot(a[0] + a[2] / 2 - (b[0] + b[2] / 2), a[1] + a[3] / 2 - (b[1] + b[3] / 2));
}

/** Intersection over union of two boxes. */
export function iou(a: Box, b: Box): number {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return 0;
  const intersection = ix * iy;
  return intersection / (a[2] * a[3] + b[2] * b[3] - intersection);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
