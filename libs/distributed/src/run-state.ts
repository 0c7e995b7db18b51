/**
 * The coordinator's run state machine, on its own: which state a run is in, why, and the one table of legal moves.
 * Pure (no gRPC, no timers, no clock), so every move can be tested in-process; CoordinatorServer owns one and
 * changes state only by firing events at it. The side effects of a move (answering held Join calls, resolving
 * `done`) stay with the coordinator, which knows the members.
 *
 * Test: node tools/run-tests.mjs libs/distributed run-state
 */

export type RunState = 'waiting' | 'training' | 'reforming' | 'stopping' | 'finished' | 'failed';

/** What happened to the run. The reason (if any) travels with the event, not in its name. */
export type RunEvent =
  /** A generation was formed from held Join calls: the first one, or the next one after a re-form. */
  | 'generation-formed'
  /** A restarted coordinator took over the generation its workers reported (with a valid ticket). */
  | 'adopted'
  /** A member's collective failed, or it re-joined after a reform request (elastic runs). */
  | 'reform-requested'
  /** A member missed its heartbeats (elastic runs; a static run fails instead). */
  | 'member-lost'
  /** Shutdown: an orderly stop while training, a failure when there is no step to finish after. */
  | 'stop-requested'
  /** Anything that ends the run as failed: a failed or early Leave, a dead worker, a join timeout, too few workers. */
  | 'failed'
  /** Every member has left (or was declared dead) and nobody is waiting to join. */
  | 'all-left';

export const RUN_STATES: readonly RunState[] = ['waiting', 'training', 'reforming', 'stopping', 'finished', 'failed'];
export const RUN_EVENTS: readonly RunEvent[] = ['generation-formed', 'adopted', 'reform-requested', 'member-lost', 'stop-requested', 'failed', 'all-left'];

/** A run in one of these never moves again: `done` has resolved (or will, once the last worker is gone). */
export const TERMINAL_STATES: readonly RunState[] = ['finished', 'failed'];

export type TransitionTable = { readonly [S in RunState]: Readonly<Partial<Record<RunEvent, RunState>>> };

/** (state, event) → next state. A pair that is not here is handled by UNLISTED. */
export const RUN_TRANSITIONS: TransitionTable = Object.freeze({
  waiting: Object.freeze({
    'generation-formed': 'training',
    adopted: 'training',
    // Nobody has a step to finish: a stop before training is a run that never happened.
    'stop-requested': 'failed',
    failed: 'failed',
  }),
  training: Object.freeze({
    'reform-requested': 'reforming',
    'member-lost': 'reforming',
    'stop-requested': 'stopping',
    failed: 'failed',
    'all-left': 'finished',
  }),
  reforming: Object.freeze({
    'generation-formed': 'training',
    // The survivors are between generations, with no step under way to finish and checkpoint in order.
    'stop-requested': 'failed',
    failed: 'failed',
  }),
  stopping: Object.freeze({
    failed: 'failed',
    'all-left': 'finished',
  }),
  finished: Object.freeze({}),
  failed: Object.freeze({}),
});

/**
 * What an event does in a state where the table does not list it. 'ignore': nothing, because the coordinator
 * fires it wherever it happens and only some states care (a second failure, a stop once stopping, a lost member
 * while already re-forming, members leaving a generation that is re-forming). 'throw': the coordinator checks the
 * state before firing it, so reaching it elsewhere is a bug that must not pass silently.
 */
export const UNLISTED: Readonly<Record<RunEvent, 'ignore' | 'throw'>> = Object.freeze({
  'generation-formed': 'throw',
  adopted: 'throw',
  'reform-requested': 'ignore',
  'member-lost': 'ignore',
  'stop-requested': 'ignore',
  failed: 'ignore',
  'all-left': 'ignore',
});

export interface RunTransition {
  from: RunState;
  to: RunState;
  event: RunEvent;
  reason: string;
}

export class IllegalRunTransition extends Error {
  constructor(readonly state: RunState, readonly event: RunEvent) {
    super(`run state machine: '${event}' is not allowed while the run is ${state}`);
  }
}

export class RunLifecycle {
  private current: RunState;
  private why = '';

  /**
   * @param initial a run starts 'waiting'; other states are for tests.
   * @param onTransition called after every move (never for an ignored event), e.g. to log it.
   */
  constructor(initial: RunState = 'waiting', private readonly onTransition?: (t: RunTransition) => void) {
    this.current = initial;
  }

  get state(): RunState {
    return this.current;
  }

  /** Why the run stopped or failed; '' while it is going. Shown by status() and in refusals. */
  get reason(): string {
    return this.why;
  }

  get terminal(): boolean {
    return TERMINAL_STATES.includes(this.current);
  }

  /** Whether `event` moves the run now (false: it would be ignored or throw). */
  can(event: RunEvent): boolean {
    return RUN_TRANSITIONS[this.current][event] !== undefined;
  }

  /**
   * Moves per RUN_TRANSITIONS and returns the new state. `reason` replaces the current one only on a move;
   * without one the reason is kept (a finished run keeps the reason it was stopped for).
   * @throws IllegalRunTransition for an unlisted event whose UNLISTED policy is 'throw'.
   */
  fire(event: RunEvent, reason?: string): RunState {
    const from = this.current;
    const to = RUN_TRANSITIONS[from][event];
    if (to === undefined) {
      if (UNLISTED[event] === 'throw') throw new IllegalRunTransition(from, event);
      return from;
    }
    this.current = to;
    if (reason !== undefined) this.why = reason;
    this.onTransition?.({ from, to, event, reason: this.why });
    return to;
  }
}
