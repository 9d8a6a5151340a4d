/**
 * The MCP hosts on this machine and where each keeps its servers: for `mcpd connect` (write the
 * bridge entry) and `mcpd import` (read their servers). Paths follow each host's own rules per
 * platform; `HOME`, `XDG_CONFIG_HOME` and `APPDATA` are honoured, so tests never touch real files.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { asText } from '../util/text.js';

export const HOSTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'windsurf'] as const;
export type Host = (typeof HOSTS)[number];

export interface HostConfig {
  host: Host;
  label: string;
  file: string;
  /** The key that holds the servers. */
  key: 'mcpServers' | 'servers';
  /** Whether entries carry "type": "stdio" (VS Code's and Claude Code's shape). */
  typed: boolean;
}

function appData(env: NodeJS.ProcessEnv): string {
  const home = env['HOME'] ?? homedir();
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support');
  if (process.platform === 'win32') return env['APPDATA'] ?? join(home, 'AppData', 'Roaming');
  return env['XDG_CONFIG_HOME'] ?? join(home, '.config');
}

export function hostConfig(host: Host, env: NodeJS.ProcessEnv = process.env): HostConfig {
  const home = env['HOME'] ?? homedir();
  switch (host) {
    case 'claude-desktop':
      return {
        host,
        label: 'Claude Desktop',
        file: join(appData(env), 'Claude', 'claude_desktop_config.json'),
        key: 'mcpServers',
        typed: false,
      };
    case 'claude-code':
      // The user scope (claude mcp add --scope user): every project sees it.
      return { host, label: 'Claude Code', file: join(home, '.claude.json'), key: 'mcpServers', typed: true };
    case 'cursor':
      return { host, label: 'Cursor', file: join(home, '.cursor', 'mcp.json'), key: 'mcpServers', typed: false };
    case 'vscode':
      return { host, label: 'VS Code', file: join(appData(env), 'Code', 'User', 'mcp.json'), key: 'servers', typed: true };
    case 'windsurf':
      return { host, label: 'Windsurf', file: join(home, '.codeium', 'windsurf', 'mcp_config.json'), key: 'mcpServers', typed: false };
  }
}

export function parseHost(name: string | undefined, allowed: readonly Host[] = HOSTS): Host | undefined {
  return allowed.find((h) => h === name);
}

/** Whether an entry is one `mcpd connect` wrote (a bridge of this or another mcpd). */
export function isBridge(entry: Record<string, unknown>): boolean {
  const args = Array.isArray(entry['args']) ? (entry['args'] as unknown[]).map(String) : [];
  const command = asText(entry['command']);
  return (
    args.includes('bridge') &&
    (/(^|[\\/])mcpd(\.cmd)?$/.test(command) || /[\\/]dist[\\/](cli[\\/]main|bundle[\\/]mcpd)\.js$/.test(args[0] ?? ''))
  );
}
