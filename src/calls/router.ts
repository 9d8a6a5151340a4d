/**
 * Routes a call on a namespaced name to its server, by the catalogue's table. Every front
 * (control socket, chat, bridge) calls through here.
 */
import type { CallToolResult, GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { Catalogue } from '../catalogue/catalogue.js';
import { SEPARATOR, sanitize } from '../catalogue/naming.js';
import { McpdError } from '../errors.js';
import type { CallOptions } from '../supervisor/managed-server.js';
import type { Supervisor } from '../supervisor/supervisor.js';

export type Caller = 'cli' | 'chat' | 'mcp-client' | 'control';

export interface RoutedCallOptions extends CallOptions {
  caller?: Caller;
}

function closest(name: string, candidates: string[]): string | undefined {
  const lower = name.toLowerCase();
  return candidates.find((c) => c.toLowerCase() === lower) ?? candidates.find((c) => c.toLowerCase().endsWith(`__${lower}`));
}

export class ToolRouter {
  constructor(
    private readonly catalogue: Catalogue,
    private readonly supervisor: Supervisor,
  ) {}

  async callTool(name: string, args: Record<string, unknown> | undefined, options: RoutedCallOptions = {}): Promise<CallToolResult> {
    const entry = this.catalogue.resolveTool(name);
    if (!entry) {
      // The tool may belong to a server that is down: say so rather than "no such tool".
      const owner = this.supervisor.list().find((s) => name.startsWith(`${sanitize(s.name)}${SEPARATOR}`) && s.state !== 'running');
      if (owner) {
        const why = owner.status().lastError?.message;
        throw new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${owner.name}" is ${owner.state}, so "${name}" is not available${why ? `: ${why}` : '.'}`, { server: owner.name });
      }
      const hint = closest(name, this.catalogue.tools().map((t) => t.name));
      throw new McpdError('MCPD_TOOL_UNKNOWN', `No tool named "${name}" in the catalogue.${hint ? ` Did you mean "${hint}"?` : ' List them with: mcpd tools'}`);
    }
    return this.supervisor.get(entry.server).callTool(entry.originalName, args, options);
  }

  async readResource(uri: string, server: string | undefined, options: CallOptions = {}): Promise<ReadResourceResult> {
    const owners = this.catalogue.resolveResource(uri).filter((r) => server === undefined || r.server === server);
    if (owners.length === 0) {
      if (server !== undefined) return this.supervisor.get(server).readResource(uri, options); // templated URIs are not listed
      throw new McpdError('MCPD_RESOURCE_UNKNOWN', `No server lists a resource ${uri}; name the server to read it anyway.`);
    }
    if (owners.length > 1) {
      throw new McpdError('MCPD_RESOURCE_UNKNOWN', `Several servers list ${uri} (${owners.map((o) => o.server).join(', ')}); name the server.`);
    }
    return this.supervisor.get(owners[0]!.server).readResource(uri, options);
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, options: CallOptions = {}): Promise<GetPromptResult> {
    const entry = this.catalogue.resolvePrompt(name);
    if (!entry) throw new McpdError('MCPD_PROMPT_UNKNOWN', `No prompt named "${name}" in the catalogue.`);
    return this.supervisor.get(entry.server).getPrompt(entry.originalName, args, options);
  }
}
