/** What every control method is, for the modules that define them (methods.ts, app-methods.ts). */
import type { LazyAbort } from '../../hotpath/lazy-abort.js';
import type { Params } from './params.js';
import type { ControlConnection } from './server.js';

/** One method: its checked params, its request's LazyAbort, the connection it came on. */
export type Method = (params: Params, cancel: LazyAbort, connection: ControlConnection) => unknown;

/** How long a person has to answer what the daemon asks them (a server's question, an approval). */
export const QUESTION_TIMEOUT_MS = 10 * 60_000;
