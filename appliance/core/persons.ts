/**
 * What the appliance says about a person in front of the camera: the screening state, the prompts
 * for the visitor and the reasons for staff, as codes. One wording per code lives in the message
 * catalogue below (English); the UI may translate the codes, and every event carries both the
 * codes and the catalogue's words.
 */

/**
 * A person's screening state (the state machine is in screening/personState.ts):
 * - `approaching`: seen, not yet at the measurement point or not yet confirmed;
 * - `too-far`: confirmed, but the face is too small to measure;
 * - `measuring`: close enough; good frames are being collected (prompts say what is in the way);
 * - `measured`: enough good frames: a reading and a decision;
 * - `invalid`: left (or the source ended) without a reading, with the reasons;
 * - `left`: left after being measured (the `end` event carries the final reading).
 */
export type PersonStateName = 'approaching' | 'too-far' | 'measuring' | 'measured' | 'invalid' | 'left';

/** What the visitor (and staff) should do, or why a person has no reading. */
export type PromptCode =
  | 'come-closer'
  | 'look-at-camera'
  | 'remove-glasses'
  | 'step-into-view'
  | 'one-at-a-time'
  | 'hold-still'
  | 'eyes-not-found'
  | 'reference-not-stable'
  | 'camera-recalibrating'
  | 'never-at-measurement-point'
  | 'confirm-with-thermometer'
  | 'measure-again';

/** One wording per code (the visitor-facing sentence). */
export const PROMPT_MESSAGES: Record<PromptCode, string> = {
  'come-closer': 'Please step closer to the mark',
  'look-at-camera': 'Please look at the camera',
  'remove-glasses': 'Please remove your glasses',
  'step-into-view': 'Please stand in the middle',
  'one-at-a-time': 'One person at a time, please',
  'hold-still': 'Please hold still',
  'eyes-not-found': 'Please look at the camera: eyes not found',
  'reference-not-stable': 'Screening paused: reference not stable',
  'camera-recalibrating': 'Camera recalibrating: please wait',
  'never-at-measurement-point': 'Never at the measurement point: please step up to the mark',
  'confirm-with-thermometer': 'Please see staff: confirm with a clinical thermometer',
  'measure-again': 'Please measure again',
};

export function promptMessages(codes: readonly PromptCode[]): string[] {
  return codes.map((code) => PROMPT_MESSAGES[code]);
}
