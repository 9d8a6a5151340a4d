/** Command-line parsing (node:util parseArgs): one table of flags shared by every command. */
import { parseArgs } from 'node:util';
import { McpdError } from '../errors.js';
import { MAX_TIMER_MS } from '../util/limits.js';

export interface CliArgs {
  positionals: string[];
  home?: string | undefined;
  config?: string | undefined;
  json: boolean;
  follow: boolean;
  lines?: number | undefined;
  timeoutMs?: number | undefined;
  help: boolean;
  version: boolean;
  prompt?: string | undefined;
  session?: string | undefined;
  model?: string | undefined;
  /** `serve`: write the daemon's log to this file (rotated by size) instead of stderr. */
  logFile?: string | undefined;
  /** `bridge`: one server under its own names instead of the merged catalogue. */
  server?: string | undefined;
  /** `bridge`: a profile (gateway.profiles) instead of the merged catalogue. */
  profile?: string | undefined;
  /** `auth`: forget the server's tokens. */
  logout: boolean;
  /** `auth`: print the sign-in URL, never open a browser. */
  noBrowser: boolean;
  /** `server add`: the command and its arguments, everything after `--`. */
  rest: string[];
  /** `server add`: KEY=VALUE pairs for the server's environment. */
  env: string[];
  /** `server add`: 'Name: value' headers of a remote server. */
  headers: string[];
  url?: string | undefined;
  cwd?: string | undefined;
  transport?: string | undefined;
  /** `server add`: replace an entry of that name. */
  force: boolean;
  /** `connect`, `disconnect`, `import`: print the change, write nothing. */
  dryRun: boolean;
  /** `import`: the host to copy servers from. */
  from?: string | undefined;
  /** `service install`: write the files, do not enable the service. */
  noStart: boolean;
}

export function parseCli(argv: string[]): CliArgs {
  // Everything after `--` is the server's command line, never mcpd's options.
  const separator = argv.indexOf('--');
  const rest = separator === -1 ? [] : argv.slice(separator + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: separator === -1 ? argv : argv.slice(0, separator),
      allowPositionals: true,
      strict: true,
      options: {
        home: { type: 'string' },
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        follow: { type: 'boolean', short: 'f' },
        lines: { type: 'string', short: 'n' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        prompt: { type: 'string', short: 'p' },
        session: { type: 'string' },
        model: { type: 'string' },
        version: { type: 'boolean', short: 'v' },
        'log-file': { type: 'string' },
        server: { type: 'string' },
        profile: { type: 'string' },
        logout: { type: 'boolean' },
        'no-browser': { type: 'boolean' },
        env: { type: 'string', short: 'e', multiple: true },
        header: { type: 'string', multiple: true },
        url: { type: 'string' },
        cwd: { type: 'string' },
        transport: { type: 'string' },
        force: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        from: { type: 'string' },
        'no-start': { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new McpdError('MCPD_USAGE', `${(error as Error).message}. See: mcpd --help`);
  }
  const { values, positionals } = parsed;
  const number = (name: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new McpdError('MCPD_USAGE', `--${name} takes a whole number from ${min} to ${max}, not "${raw}".`);
    }
    return value;
  };
  return {
    positionals,
    home: values.home,
    config: values.config,
    json: values.json ?? false,
    follow: values.follow ?? false,
    lines: number('lines', values.lines, 0),
    timeoutMs: number('timeout', values.timeout, 1, MAX_TIMER_MS),
    help: values.help ?? false,
    version: values.version ?? false,
    prompt: values.prompt,
    session: values.session,
    model: values.model,
    logFile: values['log-file'],
    server: values.server,
    profile: values.profile,
    logout: values.logout ?? false,
    noBrowser: values['no-browser'] ?? false,
    rest,
    env: values.env ?? [],
    headers: values.header ?? [],
    url: values.url,
    cwd: values.cwd,
    transport: values.transport,
    force: values.force ?? false,
    dryRun: values['dry-run'] ?? false,
    from: values.from,
    noStart: values['no-start'] ?? false,
  };
}

export const USAGE = `mcpd — one daemon for all your MCP servers

Usage: mcpd <command> [options]

Daemon
  serve [--config F] [--log-file F]
                                run the daemon in the foreground (Ctrl-C stops it and every server);
                                --log-file writes its log there (rotated at 10 MiB, 3 kept), not stderr
  start [--config F]            start the daemon in the background and wait until it is ready
  stop                          stop the daemon and every server it started
  reload                        re-read the config and apply only what changed
  status [--json]               the daemon and one row per server

Tools and servers
  tools [SERVER] [--json]       the merged catalogue
  call TOOL [ARGS_JSON] [--json] [--timeout MS]
                                call one tool by its namespaced name (ARGS_JSON "-" reads stdin)
  server start|stop|restart NAME
                                act on one server (restart also clears "failed")
  server add NAME [-e K=V]... [--cwd D] [--force] -- COMMAND [ARGS...]
  server add NAME --url URL [--transport http|sse] [--header 'K: V']... [--force]
                                add a server to the config file (comments kept) and reload
  server remove|enable|disable NAME
                                change the config file and reload
  server list                   the config's servers with their states
  logs [SERVER] [-f] [-n N]     captured logs (server stderr included); -f follows
  auth [NAME] [--no-browser] [--logout]
                                remote servers' sign-ins; with NAME, sign in (OAuth: opens the
                                browser, or prints the URL) or, with --logout, forget the tokens

Chat (needs ANTHROPIC_API_KEY in the daemon's environment)
  chat [--session ID] [--model M]
                                interactive chat with Claude over every server's tools;
                                Ctrl-C cancels the turn, Ctrl-C on an empty line or Ctrl-D quits
  chat -p PROMPT [--json]       one turn, printed (--json: one event per line); piped stdin
                                works as the prompt too

MCP hosts (Claude Desktop, Claude Code, Cursor, VS Code)
  bridge [--server NAME | --profile NAME] [--config F]
                                an MCP server on stdin/stdout: the merged catalogue, one server
                                under its own names, or a profile; starts the daemon when none runs

MCP hosts, wired in one command
  connect claude-desktop|claude-code|cursor|vscode [--profile P | --server S] [--dry-run]
                                write the mcpd bridge entry into that host's config (backup first)
  disconnect HOST [--dry-run]   take it out again
  import [FILE | --from HOST] [--dry-run]
                                copy a host's servers into mcpd's config (duplicates skipped)

Login service
  service install [--no-start] [--dry-run] | uninstall | status
                                run the daemon at login (systemd user unit, launchd agent);
                                secrets in a 0600 env file beside the user config

Config
  init [--config F]             write a config to start from (default: the user's,
                                $XDG_CONFIG_HOME/mcpd/mcp.config.json, found from any folder)
  config check [F]              validate a config and print every problem with its path

Options for every command
  --home DIR                    the daemon's home (default: $MCPD_HOME or ~/.mcpd)
  -h, --help                    this help
  -v, --version                 the version

Exit codes: 0 ok, 1 failed (or the tool returned an error), 2 usage, 3 no daemon running.
`;
