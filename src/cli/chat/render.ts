/** How a chat turn looks in a terminal: streamed text, one line per tool call, a usage line. */
import type { ChatEvent, TokenUsage } from '../../protocol/types.js';
import { elapsed } from '../format.js';
import { forTerminal } from '../terminal.js';

const DIM = '\u001b[2m';
const RED = '\u001b[31m';
const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const RESET = '\u001b[0m';

export function shortJson(value: unknown, max = 60): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function usageLine(usage: TokenUsage): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const cache =
    usage.cacheReadInputTokens || usage.cacheCreationInputTokens
      ? ` (cache: ${n(usage.cacheReadInputTokens)} read, ${n(usage.cacheCreationInputTokens)} written)`
      : '';
  return `${n(usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens)} in${cache} / ${n(usage.outputTokens)} out`;
}

interface Running {
  name: string;
  startedAt: number;
  /** The server's last progress report, as shown on the live line. */
  progress?: string;
}

/** Renders events to a terminal (or any stream); a status line shows calls running for long. */
export class TurnRenderer {
  private atLineStart = true;
  private readonly running = new Map<string, Running>();
  private ticker: NodeJS.Timeout | undefined;
  private statusShown = false;
  private held = false;
  /** Colour only on a terminal that wants it (NO_COLOR, TERM=dumb). */
  private readonly colors: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream | NodeJS.WritableStream,
    private readonly err: NodeJS.WritableStream,
    private readonly tty: boolean,
  ) {
    this.colors = tty && !process.env['NO_COLOR'] && process.env['TERM'] !== 'dumb';
  }

  private color(code: string, text: string): string {
    return this.colors ? `${code}${text}${RESET}` : text;
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.out.write('\r\u001b[2K');
      this.statusShown = false;
    }
  }

  private line(text: string, stream: NodeJS.WritableStream = this.out): void {
    this.clearStatus();
    if (!this.atLineStart) this.out.write('\n');
    stream.write(`${text}\n`);
    this.atLineStart = true;
  }

  /** What the model, a server or the daemon wrote, made safe for a terminal (terminal.ts). */
  private safe(text: string): string {
    return this.tty ? forTerminal(text) : text;
  }

  render(event: ChatEvent): void {
    switch (event.type) {
      case 'turn_start':
        break;
      case 'text':
        this.clearStatus();
        this.out.write(this.safe(event.text));
        this.atLineStart = event.text.endsWith('\n');
        break;
      case 'tool_start':
        this.running.set(event.id, { name: event.name, startedAt: Date.now() });
        this.line(this.color(DIM, this.safe(`  ⚙ ${event.name} ${shortJson(event.input)}`)));
        this.tick();
        break;
      case 'tool_search': {
        const found = event.found.length > 0 ? event.found.join(', ') : 'nothing';
        this.line(this.color(DIM, this.safe(`  ⌕ searched the tools for "${event.query}": found ${found}`)));
        break;
      }
      case 'tool_progress': {
        const running = this.running.get(event.id);
        if (running)
          running.progress = this.safe(
            `${event.progress}${event.total !== undefined ? `/${event.total}` : ''}${event.message ? ` ${event.message}` : ''}`,
          );
        break;
      }
      case 'tool_end': {
        this.running.delete(event.id);
        const mark = event.ok ? this.color(GREEN, '✓') : this.color(RED, '✗');
        const cut = event.truncated ? ' (cut; full text kept by mcpd)' : '';
        // A terminal cannot show the tool's App: its dashboard link, on the tool's own line.
        const app = event.app?.url ? ` · app: ${this.safe(event.app.url)}` : '';
        this.line(
          `  ${mark} ${this.safe(event.name)} ${this.color(DIM, this.safe(`${elapsed(event.durationMs)} · ${event.summary}${cut}`))}${app}`,
        );
        break;
      }
      case 'approval_request':
      case 'elicitation_request':
      case 'sampling_request':
      case 'request_closed':
        break; // asked by the REPL
      case 'notice':
        this.line(this.color(YELLOW, this.safe(`  ! ${event.message}`)), this.err);
        break;
      case 'step_end':
        break;
      case 'turn_end': {
        this.stopTicker();
        if (event.error) this.line(this.color(RED, this.safe(event.error.message)), this.err);
        else if (event.stopReason === 'cancelled') this.line(this.color(YELLOW, '  (cancelled)'));
        else if (event.stopReason === 'max_tokens') this.line(this.color(YELLOW, '  (the answer hit chat.maxTokens and was cut)'));
        else if (!this.atLineStart) {
          this.clearStatus();
          this.out.write('\n');
          this.atLineStart = true;
        }
        const steps = `${event.steps} step${event.steps === 1 ? '' : 's'}`;
        this.line(this.color(DIM, `  · ${steps} · ${usageLine(event.usage)} · session ${usageLine(event.sessionUsage)}`), this.err);
        break;
      }
    }
  }

  /** While the person is asked something, the live line stays away from the prompt. */
  holdStatus(hold: boolean): void {
    this.held = hold;
    if (hold) this.clearStatus();
  }

  /** On a terminal, calls running for more than a second get a live elapsed-time line. */
  private tick(): void {
    if (!this.tty || this.ticker) return;
    this.ticker = setInterval(() => {
      if (this.held) return;
      const long = [...this.running.values()].filter((r) => Date.now() - r.startedAt >= 1000);
      if (long.length === 0) {
        this.clearStatus();
        if (this.running.size === 0) this.stopTicker();
        return;
      }
      const text = long
        .map((r) => `${this.safe(r.name)} ${Math.floor((Date.now() - r.startedAt) / 1000)}s${r.progress ? ` (${r.progress})` : ''}`)
        .join(', ');
      if (!this.atLineStart) {
        this.out.write('\n');
        this.atLineStart = true;
      }
      this.out.write(`\r\u001b[2K${this.color(DIM, `  … running: ${text}`)}`);
      this.statusShown = true;
    }, 500);
    this.ticker.unref();
  }

  stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.clearStatus();
  }
}
