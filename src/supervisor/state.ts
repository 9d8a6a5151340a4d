/** The server state machine: every transition is checked here, illegal ones throw. */
import type { ServerState } from '../protocol/types.js';

const TRANSITIONS: Readonly<Record<ServerState, readonly ServerState[]>> = {
  stopped: ['starting', 'idle', 'disabled', 'disposed'],
  // No process, its catalogue kept: the first request that needs it starts it.
  idle: ['starting', 'stopped', 'disabled', 'disposed'],
  disabled: ['starting', 'stopped', 'disposed'],
  starting: ['running', 'backoff', 'failed', 'needs-auth', 'stopping'],
  running: ['backoff', 'failed', 'needs-auth', 'stopping'],
  backoff: ['starting', 'failed', 'stopping'],
  failed: ['starting', 'stopping'],
  // A remote server that answered 401/403: it waits for a sign-in (or a manual start).
  'needs-auth': ['starting', 'stopping'],
  stopping: ['stopped', 'idle', 'disabled'],
  disposed: [],
};

export function canTransition(from: ServerState, to: ServerState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(server: string, from: ServerState, to: ServerState): void {
  if (!canTransition(from, to)) {
    throw new Error(`illegal state transition for server "${server}": ${from} → ${to}`);
  }
}
