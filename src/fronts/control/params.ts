/** A control method's parameters, checked; and what a thrown error becomes on the wire. */
import { JSONRPC_ERRORS } from '../../protocol/control.js';
import type { RpcErrorObject } from '../../protocol/jsonrpc.js';
import { isMcpdError } from '../../errors.js';
import { MAX_TIMER_MS } from '../../util/limits.js';

export class InvalidParams extends Error {}
export class MethodNotFound extends Error {}

export type Params = Record<string, unknown>;

export function object(params: unknown): Params {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new InvalidParams('params must be an object');
  return params as Params;
}

export function str(params: Params, key: string): string {
  const value = params[key];
  if (typeof value !== 'string' || value === '') throw new InvalidParams(`params.${key} must be a non-empty string`);
  return value;
}

export function optStr(params: Params, key: string): string | undefined {
  if (params[key] === undefined) return undefined;
  return str(params, key);
}

export function optObject(params: Params, key: string): Record<string, unknown> | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidParams(`params.${key} must be an object`);
  return value as Record<string, unknown>;
}

export function optPositive(params: Params, key: string): number | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidParams(`params.${key} must be a positive number`);
  return value;
}

/** A duration Node's timers can hold (below 2^31 ms, about 24.8 days). */
export function optTimeout(params: Params, key: string): number | undefined {
  const value = optPositive(params, key);
  if (value !== undefined && value > MAX_TIMER_MS)
    throw new InvalidParams(`params.${key} must be at most ${MAX_TIMER_MS} (about 24.8 days)`);
  return value;
}

export function toRpcError(error: unknown): RpcErrorObject {
  if (error instanceof MethodNotFound) return { code: JSONRPC_ERRORS.METHOD_NOT_FOUND, message: error.message };
  if (error instanceof InvalidParams) return { code: JSONRPC_ERRORS.INVALID_PARAMS, message: `Invalid params: ${error.message}` };
  if (isMcpdError(error)) {
    return {
      code: error.code === 'MCPD_CONTROL_PROTOCOL' ? JSONRPC_ERRORS.INVALID_REQUEST : JSONRPC_ERRORS.MCPD_ERROR,
      message: error.message,
      data: { code: error.code, ...(error.server ? { server: error.server } : {}), ...(error.details ? { details: error.details } : {}) },
    };
  }
  return {
    code: JSONRPC_ERRORS.INTERNAL_ERROR,
    message: `Internal error: ${(error as Error)?.message ?? String(error)}`,
    data: { code: 'MCPD_INTERNAL' },
  };
}
