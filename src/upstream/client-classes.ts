/**
 * The v2 client's error classes, for the checks the supervisor makes on what a connection threw.
 * The client is a third of the daemon's code: it loads with the first connection (open.ts), after
 * the first servers are spawned, not with the daemon. Until it has loaded nothing can have thrown
 * one of its errors, and every check here says no; client-errors.ts registers them as it loads.
 */
import type * as Client from '@modelcontextprotocol/client';

export type ClientClasses = Pick<
  typeof Client,
  'ProtocolError' | 'SdkError' | 'SdkErrorCode' | 'SdkHttpError' | 'SseError' | 'UnauthorizedError'
>;

let classes: ClientClasses | undefined;

export function registerClientClasses(loaded: ClientClasses): void {
  classes = loaded;
}

/** The server does not speak the revision `servers.NAME.protocol` pins (its server/discover does not offer it). */
export function isEraMismatch(error: unknown): boolean {
  return classes !== undefined && error instanceof classes.SdkError && error.code === classes.SdkErrorCode.EraNegotiationFailed;
}

/** The client refused for want of authorization (a sign-in it could not refresh). */
export function isUnauthorized(error: unknown): error is Error {
  return classes !== undefined && error instanceof classes.UnauthorizedError;
}

/** The HTTP status a remote server answered with, as the client's errors carry it. */
export function httpStatus(error: unknown): number | undefined {
  if (classes && error instanceof classes.SdkHttpError)
    return typeof error.status === 'number' && error.status > 0 ? error.status : undefined;
  if (classes && error instanceof classes.SseError) return typeof error.code === 'number' && error.code > 0 ? error.code : undefined;
  // The legacy SSE transport's POST says its status only in its message.
  const quoted = error instanceof Error ? /^Error POSTing to endpoint \(HTTP (\d{3})\)/.exec(error.message) : null;
  return quoted ? Number(quoted[1]) : undefined;
}
