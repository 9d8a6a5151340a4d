/**
 * One error class with stable codes. The table below is the source of truth for
 * docs/errors.md (a test fails when the two drift apart).
 * This module has no dependencies but util/secrets.ts (none either): the thin CLI imports it.
 */
import { scrubSecrets } from './util/secrets.js';

export const ERROR_CODES = {
  MCPD_CONFIG_NOT_FOUND: 'No config file was found, or the one named does not exist.',
  MCPD_CONFIG_UNREADABLE: 'The config file could not be read or parsed (syntax error, bad module).',
  MCPD_CONFIG_INVALID: 'The config failed validation; every problem is listed with its path.',
  MCPD_SERVER_UNKNOWN: 'No server of that name is in the running config.',
  MCPD_SERVER_COMMAND_NOT_FOUND: 'The server command does not exist or is not executable; the server is failed at once, without retries.',
  MCPD_SERVER_SPAWN_FAILED: 'The server process could not be started.',
  MCPD_SERVER_EXITED: 'The server process exited (or its connection closed) unexpectedly.',
  MCPD_SERVER_INIT_TIMEOUT: 'The server did not answer `initialize` within `timeouts.startupMs`.',
  MCPD_SERVER_INIT_FAILED: 'The server answered `initialize` or the first listing with an error.',
  MCPD_SERVER_HUNG: 'The server missed two health pings in a row and is restarted.',
  MCPD_SERVER_CRASH_LOOP:
    'The server failed to start more than `restart.maxRestarts` times within `restart.windowMs`; it stays `failed` until restarted by hand.',
  MCPD_SERVER_CONNECTION_LOST:
    'The connection to a server closed while its process still ran (stdout closed, or a message over the size limit); it is restarted.',
  MCPD_SERVER_NOT_READING:
    'The server stopped reading its stdin and too much is waiting to be written to it; the call was failed rather than buffered.',
  MCPD_SERVER_NEEDS_AUTH:
    'A remote server answered 401 or 403: it needs authorization (`mcpd auth NAME`, or credentials in its headers). It waits in state `needs-auth`, without retries.',
  MCPD_AUTH_FAILED:
    'Signing in to a remote server (`mcpd auth NAME`) failed: discovery, registration, the authorization server refused, or the code exchange failed; the message says which.',
  MCPD_SERVER_HTTP_ERROR:
    'A remote server answered an HTTP error while connecting (404/405: wrong URL or not that transport; 5xx: retried); the message names the status.',
  MCPD_SERVER_UNREACHABLE:
    'A remote server could not be reached: connection refused, DNS, TLS certificate, timeout; the message names which.',
  MCPD_SERVER_NOT_RUNNING: 'The server is not running (stopped, disabled, failed or between restarts), so it cannot take calls.',
  MCPD_PROFILE_UNKNOWN: 'No profile of that name in gateway.profiles of the running config.',
  MCPD_TOOL_UNKNOWN: 'No tool of that namespaced name is in the catalogue.',
  MCPD_RESOURCE_UNKNOWN: 'No resource of that URI is in the catalogue.',
  MCPD_PROMPT_UNKNOWN: 'No prompt of that namespaced name is in the catalogue.',
  MCPD_TOOL_APP_ONLY:
    'The tool is for its server\'s App only (`_meta.ui.visibility: ["app"]`): no model and no caller but that App (or a host that shows Apps) may call it.',
  MCPD_APP_REFUSED:
    "An App asked for something outside its own server (another server's tool, a tool hidden from Apps); Apps reach only their own server.",
  MCPD_APP_VIEW_UNKNOWN:
    'No App view of that id: it expired (a day, or the daemon restarted), or the link was mistyped. Call the tool again.',
  MCPD_APP_INVALID:
    'The App could not be shown: its `ui://` resource is not `text/html;profile=mcp-app`, is over the size limit, or could not be read; the message says which.',
  MCPD_CALL_TIMEOUT: 'A call got no answer within `timeouts.callMs`; the server was sent `notifications/cancelled`.',
  MCPD_CALL_CANCELLED: 'A call was cancelled by its caller; the server was sent `notifications/cancelled`.',
  MCPD_CALL_FAILED: 'The server answered a call with a protocol error, or died while it was in flight (never replayed).',
  MCPD_CHAT_NO_API_KEY:
    "Chat needs an Anthropic API key in the daemon's environment (`ANTHROPIC_API_KEY`); everything else works without it.",
  MCPD_CHAT_AUTH_FAILED: 'The Messages API refused the API key (401/403).',
  MCPD_CHAT_RATE_LIMITED: 'The Messages API answered 429 (rate limited) and retries, waiting as `retry-after` said, ran out.',
  MCPD_CHAT_OVERLOADED: 'The Messages API answered 529 (overloaded) or a 5xx, and retries ran out.',
  MCPD_CHAT_NETWORK: 'The Messages API could not be reached (connection refused, reset, DNS, timeout).',
  MCPD_CHAT_API_ERROR: 'The Messages API answered another error (400 bad request...); the message says what it said.',
  MCPD_CHAT_SESSION_UNKNOWN: 'No chat session of that id (see `/sessions`, or `MCPD_HOME/sessions/`).',
  MCPD_CHAT_BUSY: 'A turn is already running in that session; wait for it or cancel it.',
  MCPD_DAEMON_NOT_RUNNING: 'No daemon answers on the control socket of this MCPD_HOME.',
  MCPD_DAEMON_ALREADY_RUNNING: 'Another daemon already owns this MCPD_HOME.',
  MCPD_DAEMON_START_FAILED: 'The daemon started in the background did not become ready.',
  MCPD_HOME_UNUSABLE: 'MCPD_HOME could not be created or made private (0700), or its socket path is too long.',
  MCPD_UI_LISTEN_FAILED: 'The dashboard could not open its loopback port (mcpd ui).',
  MCPD_GATEWAY_LISTEN_FAILED:
    "The HTTP gateway could not listen on gateway.http (the port is taken, or the address is not this machine's).",
  MCPD_HOME_FULL:
    'A file in MCPD_HOME could not be written: the disk (or the quota) is full. The message names the file; nothing half-written is left.',
  MCPD_HOME_UNWRITABLE:
    'A file in MCPD_HOME could not be written (permissions, a read-only disk, or something else in its place); the message names the file.',
  MCPD_HOME_UNSAFE: 'MCPD_HOME is owned by another user or writable by others, so it cannot be trusted; the message says how to fix it.',
  MCPD_CLOSED: 'The daemon is stopping, or the server was removed: it takes no new work.',
  MCPD_PLUGIN_DENIED: 'A plugin refused a resource read or a prompt get (tool calls it denies come back as an error result instead).',
  MCPD_PLUGIN_UNAVAILABLE:
    'A plugin that guards tool calls failed to load, so calls are denied until it loads again (fix it, then mcpd reload).',
  MCPD_CONTROL_PROTOCOL: 'A control-socket message was malformed, too large, or of an unsupported protocol version.',
  MCPD_CONTROL_CLOSED: 'The control connection closed before the answer came.',
  MCPD_USAGE: 'The command line was not understood.',
  MCPD_TIMEOUT: 'A wait ran out of time.',
  MCPD_INTERNAL: 'A bug in mcpd: please report it with the log.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface McpdErrorOptions {
  cause?: unknown;
  /** Which server the error is about, when it is about one. */
  server?: string;
  /** Extra facts for --json output and logs (stderr tail, path, exit code...). */
  details?: Record<string, unknown>;
}

export class McpdError extends Error {
  override readonly name = 'McpdError';
  readonly code: ErrorCode;
  readonly server: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: McpdErrorOptions = {}) {
    // Whatever it quotes (a URL with credentials, an SDK's message), no secret of the config shows.
    super(scrubSecrets(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.server = options.server;
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; server?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.server === undefined ? {} : { server: this.server }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isMcpdError(error: unknown, code?: ErrorCode): error is McpdError {
  return error instanceof McpdError && (code === undefined || error.code === code);
}

/** A one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
