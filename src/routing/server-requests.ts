/**
 * What an upstream server asks of its client while mcpd's calls run (roots, elicitation,
 * sampling), routed to the caller whose call caused it: the control client at a terminal, the
 * MCP client of a bridge or gateway session, or the chat. The router enters every call with its
 * caller's answers; an upstream connection asks here.
 *
 * A stdio server does not say which of its calls asked, so with several calls in flight that
 * could answer, it cannot be told, and the request is declined rather than sent to the wrong one.
 */
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../logs/store.js';
import type { ServerRequestHandler, ServerRequestKind, UpstreamRequests } from '../protocol/calls.js';
import { JsonRpcError } from '../protocol/jsonrpc.js';

export interface ServerRequestDeps {
  /** The roots the config gives a server (servers.NAME.roots). */
  roots(server: string): { uri: string; name?: string }[];
  log(server: string): Logger;
}

export class ServerRequestBridge {
  /**
   * Per server, the callers of the calls in flight that can answer. Lists, not Sets: they churn
   * on every call (hotpath/id-table.ts says why that matters).
   */
  private readonly callers = new Map<string, ServerRequestHandler[]>();

  constructor(private readonly deps: ServerRequestDeps) {}

  /** A call with a caller that can answer is in flight; the returned function ends it. */
  enter(server: string, handler: ServerRequestHandler): () => void {
    let list = this.callers.get(server);
    if (!list) {
      list = [];
      this.callers.set(server, list);
    }
    list.push(handler);
    const entered = list;
    return () => {
      const index = entered.indexOf(handler);
      if (index !== -1) entered.splice(index, 1);
    };
  }

  /** Who answers a request of this kind from this server now, or why nobody can. */
  target(server: string, kind: ServerRequestKind): { handler?: ServerRequestHandler; why?: string } {
    const able = [...new Set(this.callers.get(server) ?? [])].filter((c) => c[kind] !== undefined);
    if (able.length === 1) return { handler: able[0]! };
    const what = kind === 'elicit' ? 'an elicitation' : 'a sampling request';
    if (able.length === 0) {
      return {
        why: `server "${server}" sent ${what} and no call in flight comes from a caller that can answer it (MCP clients of mcpd bridge or the HTTP gateway that declare ${kind === 'elicit' ? 'elicitation' : 'sampling'}, mcpd call and mcpd chat on a terminal${kind === 'sample' ? ', or any call when chat.sampling is "allow"' : ''})`,
      };
    }
    return {
      why: `server "${server}" sent ${what} while ${able.length} calls that could answer it were in flight; which one asked cannot be told`,
    };
  }

  /** How one server's connection gets its answers. */
  forServer(server: string): UpstreamRequests {
    return {
      roots: () => this.deps.roots(server),
      elicit: async (params, signal) => {
        const { handler, why } = this.target(server, 'elicit');
        if (!handler?.elicit) {
          this.deps.log(server).warn(`declined: ${why}`);
          return { action: 'decline' };
        }
        return handler.elicit(params, signal, server);
      },
      sample: async (params, signal) => {
        const { handler, why } = this.target(server, 'sample');
        if (!handler?.sample) {
          this.deps.log(server).warn(`declined: ${why}`);
          throw new JsonRpcError(ErrorCode.InvalidRequest, `mcpd declined the sampling request: ${why}`);
        }
        return handler.sample(params, signal, server);
      },
    };
  }
}
