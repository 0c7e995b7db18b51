/**
 * @gan/distributed: the control plane (coordinator), the worker wiring (collective ring as the training loop's
 * Reducer, heartbeats) and the local launcher. Entry points for `gan-train coordinator|worker|local`.
 */
export { runCoordinator } from './coordinator-runner';
export { runWorker, collectiveGroup } from './worker-runner';
export { runLauncher } from './launcher';
export { CoordinatorServer } from './coordinator-server';
export type { CoordinatorOptions, RunState } from './coordinator-server';
export { RunLifecycle, RUN_TRANSITIONS, UNLISTED, IllegalRunTransition } from './run-state';
export type { RunEvent, RunTransition } from './run-state';

export { coordinatorClient } from './rpc';
export { credentialsFromFlags } from './credentials-from-flags';
export { commandMain, type CommandSpec } from './command-main';
