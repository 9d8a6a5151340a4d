/** Sign-ins to remote servers (mcpd auth); their tokens never leave the daemon. */
import type { AuthStatus, ServerStatus } from '../protocol/types.js';

export interface AuthPort {
  /** Every remote server's sign-in state (never a token). */
  list(): AuthStatus[];
  /** Starts a sign-in: the URL to send the person to (or signedIn, when a token refresh was enough). */
  signIn(server: string, signal: AbortSignal): Promise<{ authorizationUrl: string } | { signedIn: true }>;
  /** Waits for the sign-in started for this server to complete; the server's status then. */
  waitSignIn(server: string, signal: AbortSignal): Promise<ServerStatus>;
  /** Forgets the server's tokens and reconnects it without them. */
  signOut(server: string): Promise<ServerStatus>;
}
