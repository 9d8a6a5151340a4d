/**
 * `mcpd chat`: a REPL attached to the daemon, or one turn with -p (or a piped prompt). The turn
 * runs inside the daemon; this only sends, renders and answers the daemon's questions: tool
 * approvals, a server's elicitation (a form), a server's sampling request (may Claude answer it?).
 */
import { createInterface, type Interface } from 'node:readline';
import type { ControlClient } from '../../client/control-client.js';
import { McpdError } from '../../errors.js';
import type { ApprovalDecision, ChatEvent, ChatTurnResult } from '../../protocol/types.js';
import type { CliContext } from '../context.js';
import { serviceFiles } from '../service.js';
import { bringServers, connectedLine } from '../chat/bring.js';
import { resolveScript } from '../scripts.js';
import { connectOrStart } from './start.js';
import { table } from '../format.js';
import { TurnRenderer, shortJson, usageLine } from '../chat/render.js';
import { askForm } from '../elicit-form.js';
import { plural } from '../color.js';
import { forStream } from '../terminal.js';

const HELP = `Commands:
  /help            this list
  /tools           the tools Claude can use
  /servers         the servers and their states
  /new             start a new session
  /sessions        the saved sessions (resume one with: mcpd chat --session ID)
  /usage           tokens used in this session
  /model NAME      use another model in this session
  /quit            leave (Ctrl-D, or Ctrl-C on an empty line, too)
Ctrl-C while Claude works cancels the turn: the request and every running tool call.`;

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.trim();
}

function exitCodeOf(result: ChatTurnResult): number {
  if (result.stopReason === 'error') return 1;
  if (result.stopReason === 'cancelled') return 130;
  return 0;
}

/**
 * No credential in the daemon: the commonest first failure is a key exported in this shell after
 * the daemon started (or a daemon the login service started), so say which it is and what to do.
 */
function noCredential(pid: number): McpdError {
  const shellHasKey = !!process.env['ANTHROPIC_API_KEY'] || !!process.env['ANTHROPIC_AUTH_TOKEN'];
  const { envFile } = serviceFiles();
  if (shellHasKey) {
    return new McpdError(
      'MCPD_CHAT_NO_API_KEY',
      [
        `Your shell has ANTHROPIC_API_KEY, but the daemon (pid ${pid}) does not: it was started before the key was set, or by the login service.`,
        'Restart it from this shell, and it takes the key: mcpd stop, then run mcpd chat again (it starts the daemon).',
        `If the login service runs it: put ANTHROPIC_API_KEY=… in ${envFile} (0600), then mcpd service install (restarts it).`,
      ].join('\n'),
    );
  }
  return new McpdError(
    'MCPD_CHAT_NO_API_KEY',
    [
      'Chat needs an Anthropic API key, and neither this shell nor the daemon has one.',
      'Set it, restart the daemon, and chat: export ANTHROPIC_API_KEY=sk-ant-…; mcpd stop; mcpd chat',
      `(For the login service: ANTHROPIC_API_KEY=… in ${envFile}, then mcpd service install.) Everything but chat works without it.`,
    ].join('\n'),
  );
}

export async function chatCommand(ctx: CliContext): Promise<number> {
  const oneShot = ctx.args.prompt !== undefined || !process.stdin.isTTY;
  // Every script is checked before anything starts: a typo costs nothing.
  const scripts = ctx.args.positionals.slice(1).map((path) => resolveScript(path));
  // With scripts to run, a folder without a config is fine: they are the servers.
  const client = await connectOrStart(ctx, { configOptional: scripts.length > 0 });
  try {
    const status = await client.request('status', {});
    if (!status.chat.credential) throw noCredential(status.pid);
    // The servers this chat brings live as long as this connection: closing it stops them.
    for (const brought of await bringServers(ctx, client, scripts)) (oneShot ? ctx.err : ctx.out)(connectedLine(brought));
    if (oneShot) {
      const prompt = ctx.args.prompt ?? (await readStdin());
      if (!prompt) throw new McpdError('MCPD_USAGE', 'Nothing to send: give a prompt with -p "…" or on stdin.');
      return await oneTurn(ctx, client, prompt);
    }
    return await repl(ctx, client);
  } finally {
    client.close();
  }
}

async function oneTurn(ctx: CliContext, client: ControlClient, prompt: string): Promise<number> {
  const renderer = new TurnRenderer(process.stdout, process.stderr, false);
  client.on('chat:event', (event) => {
    if (ctx.args.json) ctx.out(JSON.stringify(event));
    else renderer.render(event);
  });
  let sessionId = ctx.args.session;
  if (sessionId) await client.request('chat.attach', { sessionId });
  const abort = new AbortController();
  const onSigint = () => abort.abort(new McpdError('MCPD_CALL_CANCELLED', 'Cancelled (Ctrl-C).'));
  process.once('SIGINT', onSigint);
  try {
    if (!sessionId) sessionId = (await client.request('chat.new', ctx.args.model ? { model: ctx.args.model } : {})).id;
    const pending = client.request('chat.send', {
      sessionId,
      message: prompt,
      ...(ctx.args.model ? { model: ctx.args.model } : {}),
      canApprove: false,
    });
    abort.signal.addEventListener('abort', () => void client.request('chat.cancel', { sessionId: sessionId! }).catch(() => undefined));
    const result = await pending;
    if (ctx.args.json) ctx.out(JSON.stringify({ type: 'result', ...result }));
    // The session to go on with, where it does not mix with the answer.
    else ctx.err(`session ${result.sessionId} (go on with: mcpd chat --session ${result.sessionId})`);
    return exitCodeOf(result);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

class Repl {
  private sessionId!: string;
  private model: string | undefined;
  private turnRunning = false;
  private readonly renderer: TurnRenderer;
  /** One question on the prompt at a time; each can be taken down by the daemon (request_closed). */
  private questions: Promise<void> = Promise.resolve();
  private readonly openQuestions = new Map<string, AbortController>();

  constructor(
    private readonly ctx: CliContext,
    private readonly client: ControlClient,
    private readonly rl: Interface,
  ) {
    this.renderer = new TurnRenderer(process.stdout, process.stderr, !!process.stdout.isTTY);
    this.model = ctx.args.model;
  }

  async open(): Promise<void> {
    if (this.ctx.args.session) {
      const attached = await this.client.request('chat.attach', { sessionId: this.ctx.args.session });
      this.sessionId = attached.session.id;
      const { messages } = await this.client.request('chat.history', { sessionId: this.sessionId });
      this.ctx.out(`Resuming session ${this.sessionId} (${plural(attached.session.turns, 'turn')}, ${attached.session.model}).`);
      for (const m of messages.slice(-4))
        this.ctx.out(`${m.role === 'user' ? '› ' : ''}${m.text.length > 300 ? `${m.text.slice(0, 300)}…` : m.text}`);
      if (attached.runningTurnId) this.ctx.out(`(a turn is running; its output follows)\n${attached.partialText}`);
    } else {
      const session = await this.client.request('chat.new', this.model ? { model: this.model } : {});
      this.sessionId = session.id;
      const { toolCount, servers } = await this.client.request('status', {});
      this.ctx.out(`mcpd chat · session ${session.id} · ${session.model} · ${plural(toolCount, 'tool')} · /help for commands`);
      // Tools of a server that waits for a sign-in are missing: say how to get them.
      for (const s of servers.filter((x) => x.state === 'needs-auth'))
        this.ctx.err(`  ! ${s.name} needs a sign-in (its tools are missing): run mcpd auth ${s.name}`);
    }
    this.client.on('chat:event', (event) => this.onEvent(event));
  }

  private onEvent(event: ChatEvent): void {
    if (event.sessionId !== this.sessionId) return;
    this.renderer.render(event);
    switch (event.type) {
      case 'approval_request':
        this.enqueue(event.requestId, async (signal) => {
          const decision = await this.decide(`  ? Run ${event.name} ${shortJson(event.input, 200)}  [y]es / [n]o / [a]lways: `, signal);
          await this.client.request('chat.approve', { requestId: event.requestId, decision });
        });
        break;
      case 'sampling_request':
        this.enqueue(event.requestId, async (signal) => {
          const system = event.systemPrompt ? `\n    system: ${event.systemPrompt.slice(0, 200)}` : '';
          const decision = await this.decide(
            `  ? ${event.server} (in ${event.tool}) asks Claude, up to ${event.maxTokens} tokens:\n    ${event.preview}${system}\n    Allow? [y]es / [n]o / [a]lways for ${event.server}: `,
            signal,
          );
          await this.client.request('chat.approve', { requestId: event.requestId, decision });
        });
        break;
      case 'elicitation_request':
        this.enqueue(event.requestId, async (signal) => {
          const result = await askForm(
            {
              message: `  ? ${event.server} (in ${event.tool}) asks: ${event.message}`,
              requestedSchema: event.requestedSchema,
            },
            {
              question: (prompt, s) => this.question(`    ${prompt}`, s),
              write: (text) => process.stdout.write(forStream(process.stdout, text)),
              hint: '    (type the answers; !decline declines, !cancel or Ctrl-C cancels)',
            },
            signal,
          );
          if (!signal.aborted) await this.client.request('chat.answer', { requestId: event.requestId, result });
        });
        break;
      case 'request_closed':
        this.openQuestions.get(event.requestId)?.abort();
        break;
      default:
    }
  }

  /** Questions wait their turn: the prompt holds one at a time. */
  private enqueue(requestId: string, ask: (signal: AbortSignal) => Promise<void>): void {
    const abort = new AbortController();
    this.openQuestions.set(requestId, abort);
    this.questions = this.questions.then(async () => {
      if (abort.signal.aborted) return;
      this.renderer.holdStatus(true);
      try {
        await ask(abort.signal);
      } catch (error) {
        if (!abort.signal.aborted) this.ctx.err(error instanceof Error ? error.message : String(error));
      } finally {
        this.renderer.holdStatus(false);
        this.openQuestions.delete(requestId);
      }
    });
  }

  private question(prompt: string, signal: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error('closed'));
      const onAbort = () => {
        this.ctx.out('    (no longer asked)');
        reject(new Error('closed'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // The question holds a server's or the model's words: on a terminal they cannot act on it.
      this.rl.question(forStream(process.stdout, prompt), { signal }, (answer) => {
        signal.removeEventListener('abort', onAbort);
        resolve(answer);
      });
    });
  }

  /** A y/n/a question answered with one key, no Enter needed (Enter alone is no). */
  private async decide(prompt: string, signal: AbortSignal): Promise<ApprovalDecision> {
    const onKey = (_text: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean } | undefined) => {
      if (!key || key.ctrl || key.meta || !['y', 'n', 'a'].includes(key.name ?? '')) return;
      // The key is in the line now: submit it as if Enter followed.
      setImmediate(() => this.rl.write(null, { name: 'return' }));
    };
    process.stdin.on('keypress', onKey);
    try {
      const a = (await this.question(prompt, signal)).trim().toLowerCase();
      return a.startsWith('a') ? 'always' : a.startsWith('y') ? 'yes' : 'no';
    } finally {
      process.stdin.off('keypress', onKey);
    }
  }

  /** Ctrl-C: cancel the turn if one runs; otherwise leave on an empty line. */
  onInterrupt(): 'cancelled' | 'quit' | 'cleared' {
    if (this.turnRunning) {
      void this.client.request('chat.cancel', { sessionId: this.sessionId }).catch(() => undefined);
      return 'cancelled';
    }
    return this.rl.line === '' ? 'quit' : 'cleared';
  }

  async handle(line: string): Promise<'quit' | void> {
    const text = line.trim();
    if (text === '') return;
    if (text.startsWith('/')) return this.command(text);
    this.turnRunning = true;
    try {
      await this.client.request('chat.send', {
        sessionId: this.sessionId,
        message: text,
        canApprove: true,
        ...(this.model ? { model: this.model } : {}),
      });
    } catch (error) {
      this.ctx.err(error instanceof Error ? error.message : String(error));
    } finally {
      this.turnRunning = false;
    }
  }

  private async command(text: string): Promise<'quit' | void> {
    const [name, ...rest] = text.slice(1).split(/\s+/);
    const arg = rest.join(' ');
    switch (name) {
      case 'help':
        this.ctx.out(HELP);
        return;
      case 'quit':
      case 'exit':
        return 'quit';
      case 'tools': {
        const { tools } = await this.client.request('tools.list', {});
        this.ctx.out(
          tools.length === 0
            ? 'No tools (see /servers).'
            : table(
                ['TOOL', 'DESCRIPTION'],
                tools.map((t) => [t.name, (t.description ?? '').split('\n')[0]!.slice(0, 70)]),
              ),
        );
        return;
      }
      case 'servers': {
        const { servers } = await this.client.request('servers.list', {});
        this.ctx.out(
          table(
            ['SERVER', 'STATE', 'TOOLS', 'LAST ERROR'],
            servers.map((s) => [s.name, s.state, String(s.toolCount), s.lastError?.message.split('\n')[0] ?? '-']),
          ),
        );
        return;
      }
      case 'new': {
        const session = await this.client.request('chat.new', this.model ? { model: this.model } : {});
        this.sessionId = session.id;
        this.ctx.out(`New session ${session.id} (${session.model}).`);
        return;
      }
      case 'sessions': {
        const { sessions } = await this.client.request('chat.sessions', {});
        this.ctx.out(
          sessions.length === 0
            ? 'No saved sessions yet.'
            : table(
                ['SESSION', 'TURNS', 'UPDATED', 'TITLE'],
                sessions.map((s) => [
                  `${s.id}${s.id === this.sessionId ? ' *' : ''}`,
                  String(s.turns),
                  s.updatedAt.slice(0, 16).replace('T', ' '),
                  s.title,
                ]),
              ),
        );
        return;
      }
      case 'usage': {
        const session = (await this.client.request('chat.history', { sessionId: this.sessionId }).catch(() => undefined))?.session;
        this.ctx.out(
          session
            ? `Session ${session.id}: ${plural(session.turns, 'turn')} · ${usageLine(session.usage)}`
            : 'No turns yet in this session.',
        );
        return;
      }
      case 'model': {
        if (!arg) {
          const current =
            this.model ?? (await this.client.request('chat.history', { sessionId: this.sessionId }).catch(() => undefined))?.session.model;
          this.ctx.out(
            `Model: ${current ?? "the daemon's default (chat.model)"}. Change it with /model NAME (e.g. /model claude-opus-5-5).`,
          );
          return;
        }
        this.model = arg;
        await this.client.request('chat.setModel', { sessionId: this.sessionId, model: arg }).catch(() => undefined);
        this.ctx.out(`Model: ${arg}`);
        return;
      }
      default:
        this.ctx.out(`Unknown command /${name}. ${HELP.split('\n')[0]} /help`);
    }
  }
}

async function repl(ctx: CliContext, client: ControlClient): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true, prompt: '› ' });
  const session = new Repl(ctx, client, rl);
  try {
    await session.open();
  } catch (error) {
    rl.close();
    throw error;
  }
  return new Promise<number>((resolve) => {
    let busy = false;
    // Leaving on purpose: the connection closing after this is not news.
    let leaving = false;
    const quit = () => {
      leaving = true;
      rl.close();
      resolve(0);
    };
    rl.on('SIGINT', () => {
      const what = session.onInterrupt();
      if (what === 'quit') quit();
      else if (what === 'cleared') {
        rl.write(null, { ctrl: true, name: 'u' });
        rl.prompt();
      }
    });
    rl.on('close', () => {
      leaving = true;
      resolve(0);
    });
    client.once('close', () => {
      if (leaving) return;
      ctx.err('The daemon went away (mcpd status tells whether it runs; the session is kept).');
      leaving = true;
      rl.close();
      resolve(1);
    });
    // Input stays live during a turn: Ctrl-C must reach us, and approvals are asked on it.
    rl.on('line', (line) => {
      if (busy) {
        if (line.trim()) ctx.err('  (Claude is still working; Ctrl-C cancels the turn)');
        return;
      }
      busy = true;
      void session.handle(line).then((outcome) => {
        busy = false;
        if (outcome === 'quit') return quit();
        rl.prompt();
      });
    });
    rl.prompt();
  });
}
