/**
 * Shell completion: `mcpd completion bash|zsh|fish` prints a script that asks
 * `mcpd __complete WORDS...` for the candidates of the next word: commands and their words, and
 * server, tool and prompt names from the running daemon (nothing when none runs).
 */
import { McpdError } from '../../errors.js';
import { COMMAND_HELP } from '../args.js';
import { connectDaemon, type CliContext } from '../context.js';
import { HOSTS } from '../hosts.js';

const SCRIPTS: Record<string, string> = {
  bash: `# mcpd completion for bash: source <(mcpd completion bash)
_mcpd() {
  local IFS=$'\\n'
  local candidates
  candidates="$(mcpd __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)"
  COMPREPLY=($(compgen -W "$candidates" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _mcpd mcpd
`,
  zsh: `#compdef mcpd
# mcpd completion for zsh: source <(mcpd completion zsh)  (after compinit)
_mcpd() {
  local -a candidates
  candidates=("\${(@f)$(mcpd __complete -- "\${(@)words[2,CURRENT-1]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _mcpd mcpd
`,
  fish: `# mcpd completion for fish: mcpd completion fish | source
complete -c mcpd -f -a '(mcpd __complete -- (commandline -opc)[2..-1])'
`,
};

export async function completionCommand(ctx: CliContext): Promise<number> {
  const shell = ctx.args.positionals[1];
  const script = shell === undefined ? undefined : SCRIPTS[shell];
  if (!script) throw new McpdError('MCPD_USAGE', `Usage: mcpd completion ${Object.keys(SCRIPTS).join('|')}`);
  process.stdout.write(script);
  return 0;
}

/** What the daemon knows, briefly (nothing when it does not answer at once). */
async function live(ctx: CliContext): Promise<{ servers: string[]; remote: string[]; tools: string[]; prompts: string[] }> {
  try {
    const client = await connectDaemon(ctx, 500);
    try {
      const [{ servers }, { tools }, { prompts }] = await Promise.all([
        client.request('servers.list', {}, { timeoutMs: 1_000 }),
        client.request('tools.list', {}, { timeoutMs: 1_000 }),
        client.request('prompts.list', {}, { timeoutMs: 1_000 }),
      ]);
      return {
        servers: servers.map((s) => s.name),
        remote: servers.filter((s) => s.transport !== 'stdio').map((s) => s.name),
        tools: tools.map((t) => t.name),
        prompts: prompts.map((p) => p.name),
      };
    } finally {
      client.close();
    }
  } catch {
    return { servers: [], remote: [], tools: [], prompts: [] };
  }
}

/** Options whose next word is their value, not a word of the command. */
const TAKES_VALUE = new Set([
  '--home',
  '--config',
  '-c',
  '--lines',
  '-n',
  '--timeout',
  '--prompt',
  '-p',
  '--session',
  '--model',
  '--log-file',
  '--server',
  '--profile',
  '--env',
  '-e',
  '--header',
  '--url',
  '--cwd',
  '--transport',
  '--from',
]);

/** The candidates for the word after `words` (the words typed so far, without `mcpd`). */
export async function completeCommand(ctx: CliContext): Promise<number> {
  // The words come after `--`, so that options the person typed are not taken as mcpd's own.
  const typed = ctx.args.rest;
  // Right after an option that takes a value, that value is being typed.
  if (typed.length > 0 && TAKES_VALUE.has(typed.at(-1)!)) {
    if (typed.at(-1) === '--from') process.stdout.write(`${HOSTS.join('\n')}\n`);
    return 0;
  }
  const words: string[] = [];
  for (let i = 0; i < typed.length; i += 1) {
    const word = typed[i]!;
    if (!word.startsWith('-')) words.push(word);
    else if (TAKES_VALUE.has(word)) i += 1; // skip its value
  }
  const [command, second] = words;
  let candidates: string[] = [];
  if (words.length === 0) candidates = Object.keys(COMMAND_HELP);
  else if (words.length === 1) {
    const known = await (['server', 'tools', 'resources', 'prompts', 'logs', 'call', 'auth'].includes(command!)
      ? live(ctx)
      : Promise.resolve(undefined));
    switch (command) {
      case 'server':
        candidates = ['start', 'stop', 'restart', 'add', 'remove', 'enable', 'disable', 'list'];
        break;
      case 'tools':
        candidates = [...known!.servers, ...known!.tools];
        break;
      case 'resources':
      case 'prompts':
        candidates = known!.servers;
        break;
      case 'logs':
        candidates = [...known!.servers, 'daemon', 'chat'];
        break;
      case 'call':
        candidates = known!.tools;
        break;
      case 'auth':
        candidates = known!.remote;
        break;
      case 'connect':
      case 'disconnect':
        candidates = HOSTS.filter((h) => h !== 'windsurf');
        break;
      case 'completion':
        candidates = Object.keys(SCRIPTS);
        break;
      case 'service':
        candidates = ['install', 'uninstall', 'status'];
        break;
      case 'resource':
        candidates = ['read'];
        break;
      case 'prompt':
        candidates = ['get'];
        break;
      case 'config':
        candidates = ['check'];
        break;
      case 'help':
        candidates = Object.keys(COMMAND_HELP);
        break;
      default:
    }
  } else if (words.length === 2 && command === 'server' && ['start', 'stop', 'restart', 'remove', 'enable', 'disable'].includes(second!)) {
    candidates = (await live(ctx)).servers;
  } else if (words.length === 2 && command === 'prompt' && second === 'get') {
    candidates = (await live(ctx)).prompts;
  }
  if (candidates.length > 0) process.stdout.write(`${candidates.join('\n')}\n`);
  return 0;
}
