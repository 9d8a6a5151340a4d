/** Calls into the servers, through the plugins' hooks (routing/router.ts). */
import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { CallOptions, CallToolResultJson, ForwardedRequest, RoutedCallOptions } from '../protocol/calls.js';

export interface CallsPort {
  callTool(name: string, args: Record<string, unknown> | undefined, options: RoutedCallOptions): Promise<CallToolResultJson>;
  /** A tool one server does not list at all, called by its own name (a one-server endpoint passes it on). */
  callUnlisted(
    server: string,
    name: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
  ): Promise<CallToolResultJson>;
  /** A call an App makes by its server's own tool name: only that server's tools its App may call (MCPD_APP_REFUSED). */
  callFromApp(
    server: string,
    name: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
  ): Promise<CallToolResultJson>;
  readResource(uri: string, server: string | undefined, options: RoutedCallOptions): Promise<ReadResourceResult>;
  getPrompt(name: string, args: Record<string, string> | undefined, options: RoutedCallOptions): Promise<GetPromptResult>;
  /** A request the catalogue does not model, passed to one running server as it is. */
  forward(server: string, request: ForwardedRequest, options: CallOptions): Promise<unknown>;
  /** The one server whose resource template a URI no server lists expands; else MCPD_RESOURCE_UNKNOWN. */
  templateOwner(uri: string, options: CallOptions): Promise<string>;
  /**
   * A client's subscription to a resource of a server. Counted across clients: the server is
   * asked to subscribe for the first and to unsubscribe after the last.
   */
  subscribe(server: string, uri: string, options: CallOptions): Promise<void>;
  unsubscribe(server: string, uri: string, options: CallOptions): Promise<void>;
}
