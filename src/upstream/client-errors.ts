/**
 * The v2 client's failures as the errors the rest of mcpd reads: the SDK's McpError with the
 * JSON-RPC code the spec gives it (-32001 for a timeout, -32000 for a closed connection), so
 * that health checks, restarts and the fronts see one kind whichever SDK line raised it.
 */
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError, SseError, UnauthorizedError } from '@modelcontextprotocol/client';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { registerClientClasses } from './client-classes.js';

registerClientClasses({ ProtocolError, SdkError, SdkErrorCode, SdkHttpError, SseError, UnauthorizedError });

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

/** `promise`, failing with asMcpError's errors. */
export function mcpErrors<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw asMcpError(error);
  });
}
