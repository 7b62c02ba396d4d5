/**
 * A person's screening state as an explicit state machine (the states are described in
 * core/persons.ts). Transitions only go forward through the allowed edges below; an observation that
 * would go elsewhere leaves the state as it is, so a measured person is never "un-measured" by a
 * later turned-away frame, and the states a visitor sees do not flicker backwards.
 */
import type { PersonStateName, PromptCode } from '../core/persons.ts';
import type { Decision } from '../core/types.ts';
import { FLAG_PROMPTS, type PersonSample } from './decisionRules.ts';

const ALLOWED: Record<PersonStateName, readonly PersonStateName[]> = {
  approaching: ['too-far', 'measuring', 'measured', 'invalid', 'left'],
  'too-far': ['measuring', 'measured', 'invalid', 'left'],
  measuring: ['too-far', 'measured', 'invalid', 'left'],
  // The verdict at the end may still refuse the reading (glasses seen on most frames): invalid.
  measured: ['left', 'invalid'],
  invalid: [],
  left: [],
};

export interface PersonObservation {
  /** The tracker confirmed the track as a person. */
  confirmed: boolean;
  /** The person's latest frame, when there is one. */
  latest: PersonSample | null;
  /** A reading with enough good frames for a verdict. */
  measured: boolean;
  /** The person left (or the source ended), with the final decision. */
  ended: Decision | null;
}

export function canMove(from: PersonStateName, to: PersonStateName): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** The state an observation points to, if the machine allows it; otherwise the current one. */
export function nextPersonState(current: PersonStateName, o: PersonObservation): PersonStateName {
  const target = observedState(o);
  return canMove(current, target) ? target : current;
}

function observedState(o: PersonObservation): PersonStateName {
  if (o.ended !== null) return o.ended === 'invalid' ? 'invalid' : 'left';
  if (!o.confirmed) return 'approaching';
  if (o.measured) return 'measured';
  if (!o.latest) return 'approaching';
  return o.latest.flags.includes('too-far') ? 'too-far' : 'measuring';
}

/**
 * What the person at the door is asked right now: the latest frame's problems, "hold still" while
 * good frames are collected, nothing more once measured (the decision's own prompt is added by the
 * stage).
 */
export function currentPrompts(state: PersonStateName, latest: PersonSample | null): PromptCode[] {
  if (state === 'measured' || state === 'left' || state === 'invalid' || !latest) return [];
  const prompts = new Set<PromptCode>();
  for (const flag of latest.flags) prompts.add(FLAG_PROMPTS[flag]);
  if (latest.flags.length === 0) prompts.add(latest.canthusC === null ? 'eyes-not-found' : 'hold-still');
  return [...prompts];
}
