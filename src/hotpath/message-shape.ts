/**
 * The shape the SDK's Protocol dispatches on: a request, a notification, or a response to an id.
 * Transports check only this, not the SDK's full zod schema of a JSON-RPC message: the Protocol
 * checks a message's kind again, and each request handler parses its own params.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const message = value as Record<string, unknown>;
  if (message['jsonrpc'] !== '2.0') return false;
  if (typeof message['method'] === 'string') return true;
  const id = message['id'];
  return (typeof id === 'string' || typeof id === 'number') && ('result' in message || 'error' in message);
}
