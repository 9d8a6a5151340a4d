/**
 * The login service that keeps the daemon running: a systemd user unit on Linux, a launchd agent
 * on macOS, generated from the running binary, the home and the config. Secrets (the Anthropic
 * key) live in a 0600 environment file beside the user's config, never in the unit or plist.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { shellQuote } from './format.js';

export interface ServiceSpec {
  node: string;
  main: string;
  home: string;
  /** The config to run (undefined: the daemon finds the user's). */
  config: string | undefined;
  /** KEY=VALUE lines the service reads at start (0600). */
  envFile: string;
  /** Where launchd writes the daemon's output (systemd has the journal). */
  logFile: string;
}

export const LAUNCHD_LABEL = 'dev.mcpd.daemon';

export function serviceFiles(env: NodeJS.ProcessEnv = process.env): { unit: string; plist: string; envFile: string } {
  const home = env['HOME'] ?? homedir();
  const xdg = env['XDG_CONFIG_HOME'] && env['XDG_CONFIG_HOME'].startsWith('/') ? env['XDG_CONFIG_HOME'] : join(home, '.config');
  return {
    unit: join(xdg, 'systemd', 'user', 'mcpd.service'),
    plist: join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
    envFile: join(xdg, 'mcpd', 'mcpd.env'),
  };
}

function serveArgs(spec: ServiceSpec): string[] {
  return [spec.main, 'serve', '--home', spec.home, ...(spec.config ? ['--config', spec.config] : [])];
}

/** systemd's quoting for one ExecStart word. */
function systemdWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  return `# Written by mcpd service install; mcpd service uninstall removes it.
[Unit]
Description=mcpd, the MCP host daemon (every MCP server of ${spec.config ?? 'the user config'})
Documentation=https://github.com/modelcontextprotocol

[Service]
Type=simple
ExecStart=${[spec.node, ...serveArgs(spec)].map(systemdWord).join(' ')}
WorkingDirectory=${spec.config ? dirname(spec.config) : '%h'}
# ANTHROPIC_API_KEY and other secrets: KEY=VALUE lines in this file (mode 0600).
EnvironmentFile=-${spec.envFile}
Restart=on-failure
RestartSec=2
# mcpd stops its servers' process groups itself on SIGTERM; the rest get SIGKILL after the timeout.
KillMode=mixed
TimeoutStopSec=20

[Install]
WantedBy=default.target
`;
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(spec: ServiceSpec): string {
  // launchd has no environment file: a shell reads it (set -a exports each line), then becomes node.
  const command = `set -a; [ -f ${shellQuote(spec.envFile)} ] && . ${shellQuote(spec.envFile)}; set +a; exec ${[spec.node, ...serveArgs(spec)].map(shellQuote).join(' ')}`;
  const strings = (items: string[]) => items.map((s) => `    <string>${xml(s)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by mcpd service install; mcpd service uninstall removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${strings(['/bin/sh', '-c', command])}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>WorkingDirectory</key>
  <string>${xml(spec.config ? dirname(spec.config) : homedir())}</string>
  <key>StandardOutPath</key>
  <string>${xml(spec.logFile)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(spec.logFile)}</string>
</dict>
</plist>
`;
}
