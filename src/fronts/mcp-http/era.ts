/**
 * Which era a request to the gateway speaks: the v2 SDK's own classification (the same code its
 * handler routes by), so that everything claiming the 2026-07-28 envelope — malformed claims
 * included, which must get that revision's errors — goes to the session-less path, and the rest
 * (initialize, session requests, the GET stream, DELETE) stays on the 2025 sessions.
 */
import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest } from '@modelcontextprotocol/server';

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

export function isModernRequest(req: IncomingMessage, body: unknown): boolean {
  const outcome = classifyInboundRequest({
    httpMethod: req.method ?? 'GET',
    protocolVersionHeader: first(req.headers['mcp-protocol-version']),
    mcpMethodHeader: first(req.headers['mcp-method']),
    body,
  });
  return outcome.kind !== 'legacy';
}
