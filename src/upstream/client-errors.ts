/**
 * The v2 client's failures as the errors the rest of mcpd reads: the SDK's McpError with the
 * JSON-RPC code the spec gives it (-32001 for a timeout, -32000 for a closed connection), so
 * that health checks, restarts and the fronts see one kind whichever SDK line raised it.
 */
import { ProtocolError, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

export function asMcpError(error: unknown): unknown {
  if (error instanceof McpError) return error;
  if (error instanceof ProtocolError) return new McpError(error.code, error.message, error.data);
  if (error instanceof SdkError) {
    if (error.code === SdkErrorCode.RequestTimeout) return new McpError(ErrorCode.RequestTimeout, error.message, error.data);
    if (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected)
      return new McpError(ErrorCode.ConnectionClosed, error.message, error.data);
  }
  return error;
}

/** The server does not speak the revision `servers.NAME.protocol` pins (its server/discover does not offer it). */
export function isEraMismatch(error: unknown): boolean {
  return error instanceof SdkError && error.code === SdkErrorCode.EraNegotiationFailed;
}

/** `promise`, failing with asMcpError's errors. */
export function mcpErrors<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw asMcpError(error);
  });
}
