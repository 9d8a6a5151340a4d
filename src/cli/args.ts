/** Command-line parsing (node:util parseArgs): one table of flags shared by every command. */
import { parseArgs } from 'node:util';
import { McpdError } from '../errors.js';
import { MAX_TIMER_MS } from '../util/limits.js';
import { closestWord } from '../util/suggest.js';

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
  /** `import`: take what was imported out of the host's file. */
  move: boolean;
  /** `serve`: no config found is no error (the daemon `mcpd chat ./weather.py` starts). */
  configOptional: boolean;
  /** `service install`: write the files, do not enable the service; `chat`, `call`, `tools`: do not start a daemon. */
  noStart: boolean;
}

const OPTIONS = {
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
  move: { type: 'boolean' },
  'no-start': { type: 'boolean' },
  'config-optional': { type: 'boolean' },
  // Read by color.ts from argv; declared so that it is not an unknown option.
  'no-color': { type: 'boolean' },
} as const;

/** node:util's words for an unknown option (with its broken quoting) replaced by ours, with a guess. */
function usageMessage(error: Error & { code?: string }): string {
  const unknown = /Unknown option '([^']+)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
    const flags = Object.entries(OPTIONS).flatMap(([long, spec]) => ['--' + long, ...('short' in spec ? ['-' + spec.short] : [])]);
    const guess = closestWord(unknown, flags);
    return `Unknown option ${unknown}.${guess ? ` Did you mean ${guess}?` : ''} (A server's own arguments go after --.)`;
  }
  return `${error.message.replace(/\.$/, '')}.`;
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
      options: OPTIONS,
    });
  } catch (error) {
    throw new McpdError('MCPD_USAGE', `${usageMessage(error as Error & { code?: string })} See: mcpd --help`);
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
    move: values.move ?? false,
    noStart: values['no-start'] ?? false,
    configOptional: values['config-optional'] ?? false,
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
  tools TOOL [--json]           one tool in full: description, annotations, schemas
  resources [SERVER] [--json]   the resources of every server (or one)
  resource read URI [--server S]
                                read one resource
  prompts [SERVER] [--json]     the prompts of every server (or one)
  prompt get NAME [ARGS_JSON]   get one prompt with its arguments
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
  ui [--no-browser]             the web dashboard: opens it in the browser (or prints its URL)

Chat (needs ANTHROPIC_API_KEY in the daemon's environment)
  chat [SCRIPT...] [--session ID] [--model M]
                                interactive chat with Claude over every server's tools;
                                Ctrl-C cancels the turn, Ctrl-C on an empty line or Ctrl-D quits
  chat -p PROMPT [--json]       one turn, printed (--json: one event per line); piped stdin
                                works as the prompt too
  chat ./weather.py [-p PROMPT] the tutorial's client in one command: each SCRIPT (.py, .js, .ts
                                or an executable) runs as a server for this chat only, beside
                                the configured ones, and stops when the chat ends
                                (chat, call and tools start the daemon if none runs; --no-start: don't)

MCP hosts (Claude Desktop, Claude Code, Cursor, VS Code)
  bridge [--server NAME | --profile NAME] [--config F]
                                an MCP server on stdin/stdout: the merged catalogue, one server
                                under its own names, or a profile; starts the daemon when none runs

MCP hosts, wired in one command
  connect claude-desktop|claude-code|cursor|vscode [--profile P | --server S] [--dry-run]
                                write the mcpd bridge entry into that host's config (backup first)
  disconnect HOST [--dry-run]   take it out again
  import [FILE | --from HOST] [--move] [--dry-run]
                                copy a host's servers into mcpd's config (duplicates skipped);
                                --move takes them out of the host's file (backup first)

Shell completion
  completion bash|zsh|fish      a completion script (commands, servers and tools of the daemon)

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
  --no-color                    no colour (also: NO_COLOR=1; a pipe never gets colour)
  -h, --help                    this help
  -v, --version                 the version

Exit codes: 0 ok, 1 failed (or the tool returned an error), 2 usage, 3 no daemon running.
`;

/** `mcpd COMMAND --help`: what it does, its options, and an example. */
export const COMMAND_HELP: Record<string, string> = {
  serve: `mcpd serve [--config F] [--log-file F] [--home DIR] [--config-optional]
Runs the daemon in the foreground (for systemd/launchd, and npm start). Ctrl-C or SIGTERM stops it
and every server; SIGHUP reloads the config. Logs go to stderr, or to --log-file (rotated).
--config-optional: no config found is no error (no configured servers; what mcpd chat SCRIPT starts).
Example: mcpd serve --config ./mcp.config.json`,
  start: `mcpd start [--config F] [--json]
Starts the daemon in the background and waits until every server's first start settled.
Already running on this config is fine; running on another config is said (exit 1).
Example: mcpd start`,
  stop: `mcpd stop
Stops the daemon and every server it started, waiting until they are gone.
Example: mcpd stop`,
  status: `mcpd status [--json]
The daemon, one row per server (state, transport, pid, uptime, restarts, tools, last error), the
MCP clients connected through the bridge or HTTP, and the plugins.
Example: mcpd status --json | jq '.servers[] | {name, state}'`,
  tools: `mcpd tools [SERVER | TOOL] [--json] [--no-start]
The merged catalogue (namespaced names), one server's tools, or one tool in full with its schemas.
Example: mcpd tools everything__echo`,
  call: `mcpd call TOOL [ARGS_JSON | -] [--json] [--timeout MS] [--no-start]
Calls one tool; prints its content (exit 1 if the result is an error). Progress shows on stderr;
a server's question is a form on a terminal; Ctrl-C cancels the call at the server.
Example: mcpd call everything__echo '{"message":"hi"}'`,
  server: `mcpd server start|stop|restart NAME
mcpd server add NAME [-e K=V]... [--cwd D] [--force] -- COMMAND [ARGS...]
mcpd server add NAME --url URL [--transport http|sse] [--header 'K: V']... [--force]
mcpd server remove|enable|disable NAME
mcpd server list [--json]
Acts on a running server, or changes the config file (comments kept) and reloads.
Example: mcpd server add memory -- npx -y @modelcontextprotocol/server-memory`,
  logs: `mcpd logs [SOURCE] [-f] [-n N] [--json]
Captured logs: mcpd's own lines, each server's stderr and MCP log messages. SOURCE is a server,
daemon, chat or plugin:NAME; -f follows.
Example: mcpd logs everything -f`,
  reload: `mcpd reload [--json]
Re-reads the config and applies only what changed; a config that does not validate is refused and
the running one stays.
Example: mcpd reload`,
  config: `mcpd config check [F] [--json]
Validates a config (the one found here, or F) and lists every problem with its path.
Example: mcpd config check ~/.config/mcpd/mcp.config.json`,
  chat: `mcpd chat [SCRIPT...] [--session ID] [--model M] [--no-start]
mcpd chat [SCRIPT...] -p PROMPT [--json] [--session ID] [--model M]
Chat with Claude over every server's tools (needs ANTHROPIC_API_KEY in the daemon's environment).
Each SCRIPT is a server for this chat only, resolved from this folder: .py (the Python of a .venv
or venv beside it, uv run when there is a pyproject.toml, else python3), .js/.mjs/.cjs (node),
.ts (node with tsx), or an executable file. It is named after the file, never written to a
config, and stopped when the chat ends. Starts the daemon when none runs (not with --no-start).
Example: mcpd chat ./weather.py
Example: mcpd chat -p "what tools do you have?"`,
  bridge: `mcpd bridge [--server NAME | --profile NAME] [--config F]
An MCP server on stdin/stdout for hosts that spawn a command; starts the daemon when none runs.
Example (Claude Code): claude mcp add mcpd -- mcpd bridge`,
  auth: `mcpd auth [NAME] [--no-browser] [--logout] [--json]
Remote servers' sign-ins; with NAME, signs in with OAuth (or forgets the tokens with --logout).
Example: mcpd auth linear`,
  ui: `mcpd ui [--no-browser]
Opens the web dashboard (servers, tools, logs, chat) in your browser, or prints its URL. The URL
signs a browser in until the daemon restarts: keep it to yourself.
Example: mcpd ui --no-browser`,
  init: `mcpd init [--config F]
Writes a commented config to start from (default: ~/.config/mcpd/mcp.config.json); never overwrites.
Example: mcpd init`,
  connect: `mcpd connect claude-desktop|claude-code|cursor|vscode [--profile P | --server S] [--dry-run]
Writes the mcpd bridge entry into that host's config (backup first; again changes nothing).
Example: mcpd connect claude-desktop --dry-run`,
  disconnect: `mcpd disconnect claude-desktop|claude-code|cursor|vscode [--dry-run]
Takes the mcpd entry out of that host's config (backup first).
Example: mcpd disconnect cursor`,
  import: `mcpd import [FILE | --from claude-desktop|claude-code|cursor|vscode|windsurf] [--move] [--dry-run]
Copies a host's servers into mcpd's config (Claude Code's per-project ones too); skips duplicates
and mcpd's own bridge; starts them when the daemon runs on that config. --move then takes them out
of the host's file (a backup first), so that, connected to mcpd, the host does not list them twice.
Example: mcpd import --from claude-desktop --move && mcpd connect claude-desktop`,
  service: `mcpd service install [--no-start] [--dry-run] | uninstall | status
Runs the daemon at login (systemd user unit on Linux, launchd agent on macOS); secrets in a 0600
env file beside the user config, never in the unit.
Example: mcpd service install`,
  resources: `mcpd resources [SERVER] [--json]
Every server's resources (or one server's), with their URIs.
Example: mcpd resources everything`,
  resource: `mcpd resource read URI [--server S] [--json]
Reads one resource (--server when two servers list the same URI).
Example: mcpd resource read demo://resource/static/document/features.md`,
  prompts: `mcpd prompts [SERVER] [--json]
Every server's prompts (namespaced names) and their arguments.
Example: mcpd prompts`,
  prompt: `mcpd prompt get NAME [ARGS_JSON] [--json]
Gets one prompt with its arguments and prints its messages.
Example: mcpd prompt get everything__args-prompt '{"city":"Paris"}'`,
  completion: `mcpd completion bash|zsh|fish
Prints a completion script: commands, then server and tool names from the running daemon.
Example: mcpd completion bash > ~/.local/share/bash-completion/completions/mcpd`,
};
