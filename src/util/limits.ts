/**
 * The longest delay Node's timers hold: 2^31 - 1 ms (about 24.8 days). A longer one fires at
 * once (with a TimeoutOverflowWarning), so every configured duration is checked against it.
 * No dependencies: the thin CLI imports it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
