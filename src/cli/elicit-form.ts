/**
 * Answers a server's elicitation on the terminal: the server's message, then one prompt per
 * field of its schema (strings, numbers, booleans, enums; defaults; required fields). On stderr,
 * so stdout keeps only the tool's result (or through the chat REPL's own prompt). `!decline` or
 * Ctrl-D declines, `!cancel` cancels.
 */
import { createInterface } from 'node:readline/promises';
import { asText } from '../util/text.js';
import { forStream } from './terminal.js';

interface FieldSchema {
  type?: string;
  title?: string;
  description?: string;
  enum?: unknown[];
  enumNames?: string[];
  oneOf?: { const: unknown; title?: string }[];
  default?: unknown;
}

export interface ElicitParams {
  message: string;
  requestedSchema?: { properties?: Record<string, FieldSchema>; required?: string[] };
}

export type ElicitAnswer = { action: 'accept'; content: Record<string, unknown> } | { action: 'decline' } | { action: 'cancel' };

class Stop extends Error {
  constructor(readonly action: 'decline' | 'cancel') {
    super(action);
  }
}

function choices(field: FieldSchema): { value: unknown; label: string }[] | undefined {
  if (field.oneOf) return field.oneOf.map((o) => ({ value: o.const, label: o.title ?? String(o.const) }));
  if (field.enum) return field.enum.map((value, i) => ({ value, label: field.enumNames?.[i] ?? String(value) }));
  return undefined;
}

/** One field's value from what was typed, or an error message to ask again with. */
function parseValue(field: FieldSchema, typed: string): { value: unknown } | { error: string } {
  const options = choices(field);
  if (options) {
    const index = Number(typed);
    const byNumber = Number.isInteger(index) && index >= 1 && index <= options.length ? options[index - 1] : undefined;
    const byLabel = options.find((o) => o.label === typed || String(o.value) === typed);
    const chosen = byNumber ?? byLabel;
    return chosen ? { value: chosen.value } : { error: `choose 1 to ${options.length}` };
  }
  if (field.type === 'boolean') {
    if (/^(y|yes|true)$/i.test(typed)) return { value: true };
    if (/^(n|no|false)$/i.test(typed)) return { value: false };
    return { error: 'answer y or n' };
  }
  if (field.type === 'number' || field.type === 'integer') {
    const value = Number(typed);
    if (typed === '' || !Number.isFinite(value) || (field.type === 'integer' && !Number.isInteger(value)))
      return { error: `a ${field.type} please` };
    return { value };
  }
  return { value: typed };
}

/** How the form talks to the person: one question at a time, and lines of explanation. */
export interface FormIo {
  /** Rejects when the person gives up (Ctrl-D, Ctrl-C) or `signal` aborts. */
  question(prompt: string, signal: AbortSignal): Promise<string>;
  write(text: string): void;
  /** Whether the person interrupted (Ctrl-C): cancel rather than decline. */
  interrupted?(): boolean;
  /** How to get out of the form, shown under the server's message. */
  hint?: string;
}

/** Asks the server's questions through `io` and builds the elicitation's answer. */
export async function askForm(params: ElicitParams, io: FormIo, signal: AbortSignal): Promise<ElicitAnswer> {
  const ask = async (prompt: string): Promise<string> => {
    try {
      const answer = (await io.question(prompt, signal)).trim();
      if (answer === '!decline') throw new Stop('decline');
      if (answer === '!cancel') throw new Stop('cancel');
      return answer;
    } catch (error) {
      if (error instanceof Stop) throw error;
      throw new Stop(signal.aborted || io.interrupted?.() ? 'cancel' : 'decline'); // Ctrl-C, Ctrl-D, or the call went away
    }
  };
  try {
    io.write(`\n${params.message}\n${io.hint ?? '(type the answers; !decline or Ctrl-D declines, !cancel cancels)'}\n`);
    const content: Record<string, unknown> = {};
    const required = new Set(params.requestedSchema?.required ?? []);
    for (const [key, field] of Object.entries(params.requestedSchema?.properties ?? {})) {
      const options = choices(field);
      if (options) options.forEach((o, i) => io.write(`  ${i + 1}. ${o.label}\n`));
      const hints = [
        field.type === 'boolean' ? 'y/n' : field.type,
        field.default !== undefined ? `default ${asText(field.default)}` : undefined,
      ]
        .filter(Boolean)
        .join(', ');
      const label = `${field.title ?? key}${required.has(key) ? ' *' : ''}${hints ? ` (${hints})` : ''}${field.description ? ` — ${field.description}` : ''}: `;
      for (;;) {
        const typed = await ask(label);
        if (typed === '') {
          if (field.default !== undefined) content[key] = field.default;
          else if (required.has(key)) {
            io.write('  (required)\n');
            continue;
          }
          break;
        }
        const parsed = parseValue(field, typed);
        if ('error' in parsed) {
          io.write(`  (${parsed.error})\n`);
          continue;
        }
        content[key] = parsed.value;
        break;
      }
    }
    return { action: 'accept', content };
  } catch (error) {
    if (error instanceof Stop) return { action: error.action };
    throw error;
  }
}

/** The form on this process's terminal (stdin, and stderr so stdout keeps only the result). */
export async function askOnTerminal(params: ElicitParams, signal: AbortSignal): Promise<ElicitAnswer> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Ctrl-C while asked: cancel (the readline takes it, not the process).
  let interrupted = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    rl.close();
  });
  try {
    return await askForm(
      params,
      {
        // The form is the server's words: on a terminal they cannot act on it (terminal.ts).
        question: (prompt, s) => rl.question(forStream(process.stderr, prompt), { signal: s }),
        write: (text) => process.stderr.write(forStream(process.stderr, text)),
        interrupted: () => interrupted,
      },
      signal,
    );
  } finally {
    rl.close();
  }
}

/** A yes/no question on this process's terminal; false on Ctrl-C, Ctrl-D or abort. */
export async function confirmOnTerminal(prompt: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  rl.on('SIGINT', () => rl.close());
  try {
    return /^y(es)?$/i.test((await rl.question(forStream(process.stderr, prompt), { signal })).trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
