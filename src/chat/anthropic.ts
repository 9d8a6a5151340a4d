/**
 * The Messages API client, and what its failures mean to a user. The SDK reads
 * ANTHROPIC_BASE_URL itself; retries are ours (see turn.ts) so that the user sees each wait.
 * The SDK is loaded on first use: a daemon nobody chats with does not carry it (~23 MB).
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { APIError } from '@anthropic-ai/sdk';
import { McpdError } from '../errors.js';

type Sdk = typeof import('@anthropic-ai/sdk');
/** Set once the SDK is loaded; an error can only be one of its classes after that. */
let sdk: Sdk | undefined;

/** Claude's current Sonnet, from the SDK's model list. */
export const DEFAULT_MODEL: Anthropic.Model = 'claude-sonnet-5-5';
export const DEFAULT_MAX_TOKENS = 8192;
export const DEFAULT_MAX_STEPS = 25;

export interface AnthropicEnv {
  ANTHROPIC_API_KEY?: string | undefined;
  ANTHROPIC_AUTH_TOKEN?: string | undefined;
  ANTHROPIC_BASE_URL?: string | undefined;
}

export function noApiKeyError(): McpdError {
  return new McpdError(
    'MCPD_CHAT_NO_API_KEY',
    'Chat needs an Anthropic API key: set ANTHROPIC_API_KEY in the environment of the daemon, then restart it (mcpd stop; ANTHROPIC_API_KEY=sk-ant-… mcpd start). Everything else works without it.',
  );
}

export function hasCredential(env: AnthropicEnv): boolean {
  return !!env.ANTHROPIC_API_KEY || !!env.ANTHROPIC_AUTH_TOKEN;
}

/** Throws MCPD_CHAT_NO_API_KEY, saying what to set, when the environment has no credential. */
export function assertApiKey(env: AnthropicEnv): void {
  if (!hasCredential(env)) throw noApiKeyError();
}

export async function createAnthropic(env: AnthropicEnv): Promise<Anthropic> {
  assertApiKey(env);
  const apiKey = env.ANTHROPIC_API_KEY;
  const authToken = env.ANTHROPIC_AUTH_TOKEN;
  sdk ??= await import('@anthropic-ai/sdk');
  return new sdk.default({
    apiKey: apiKey ?? null,
    authToken: authToken ?? null,
    ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
    maxRetries: 0,
    timeout: 10 * 60_000,
  });
}

export function isAbort(error: unknown): boolean {
  return (sdk !== undefined && error instanceof sdk.APIUserAbortError) || (error instanceof Error && error.name === 'AbortError');
}

function isApiError(error: unknown): error is APIError {
  return sdk !== undefined && error instanceof sdk.APIError;
}

function isConnectionError(error: unknown): boolean {
  return sdk !== undefined && error instanceof sdk.APIConnectionError;
}

/** Seconds from a `retry-after` header, if it has any. */
export function retryAfterMs(error: unknown): number | undefined {
  if (!isApiError(error) || !error.headers) return undefined;
  const headers = error.headers as Headers | Record<string, string>;
  const raw =
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get('retry-after')
      : (headers as Record<string, string>)['retry-after'];
  if (raw === null || raw === undefined) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Errors worth another try: rate limits, overload, server errors, the network. */
export function isRetryable(error: unknown): boolean {
  if (isConnectionError(error)) return true;
  if (isApiError(error) && error.status !== undefined) return error.status === 429 || error.status === 408 || error.status >= 500;
  return false;
}

function apiMessage(error: APIError): string {
  // The API's error body: { type: "error", error: { type, message } }.
  const body: { error?: { message?: unknown } } | undefined = error.error;
  const message = body?.error?.message;
  return typeof message === 'string' ? message : error.message;
}

/** Turns an SDK error into an McpdError whose message says what happened and what to do. */
export function chatError(error: unknown, attempts: number): McpdError {
  if (error instanceof McpdError) return error;
  const tried = attempts > 1 ? ` (tried ${attempts} times)` : '';
  if (isConnectionError(error)) {
    return new McpdError(
      'MCPD_CHAT_NETWORK',
      `Cannot reach the Messages API${tried}: ${(error as Error).message.replace(/\.+$/, '')}. Check the network (or ANTHROPIC_BASE_URL); the session is kept, send again to retry.`,
      { cause: error },
    );
  }
  if (isApiError(error)) {
    const status = error.status;
    const said = apiMessage(error);
    if (status === 401 || status === 403) {
      return new McpdError(
        'MCPD_CHAT_AUTH_FAILED',
        `The Messages API refused the API key (${status}: ${said}). Check ANTHROPIC_API_KEY in the daemon's environment.`,
        { cause: error },
      );
    }
    if (status === 429) {
      const wait = retryAfterMs(error);
      return new McpdError(
        'MCPD_CHAT_RATE_LIMITED',
        `Rate limited by the Messages API${tried}${wait !== undefined ? `; it asks to wait ${Math.ceil(wait / 1000)} s` : ''}: ${said}. The session is kept; send again later.`,
        { cause: error },
      );
    }
    if (status !== undefined && status >= 500) {
      return new McpdError(
        'MCPD_CHAT_OVERLOADED',
        `The Messages API is ${status === 529 ? 'overloaded' : 'failing'} (${status})${tried}: ${said}. The session is kept; send again to retry.`,
        { cause: error },
      );
    }
    return new McpdError('MCPD_CHAT_API_ERROR', `The Messages API answered ${status ?? 'an error'}: ${said}`, { cause: error });
  }
  return new McpdError('MCPD_CHAT_API_ERROR', `Chat failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
