/**
 * Chat sessions on disk: one append-only JSON Lines file each under MCPD_HOME/sessions. A save
 * appends only what changed since the last one (new messages, the last message if a turn added
 * to it, and a small state record), so a long session costs what it adds, not its whole length.
 *   {"i": 3, "m": {...}}   message 3 is this (a new one, or the last one rewritten)
 *   {"s": {...}}           the session's state (title, model, usage, turns...); the last wins
 * A line cut short by a crash is skipped on load. Sessions from older builds (`ID.json`) load too.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { McpdError } from '../errors.js';
import type { ChatSessionSummary, TokenUsage } from '../protocol/types.js';

export interface TurnRecord {
  id: string;
  startedAt: string;
  stopReason: string;
  steps: number;
  usage: TokenUsage;
  error?: string;
}

export interface ChatSession {
  id: string;
  title: string;
  model: string;
  createdAt: string;
  updatedAt: string;
  messages: MessageParam[];
  turns: TurnRecord[];
  usage: TokenUsage;
  /** Tools the user said "always" to, in this session. */
  alwaysAllowed: string[];
}

export const ZERO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheCreationInputTokens: a.cacheCreationInputTokens + b.cacheCreationInputTokens,
    cacheReadInputTokens: a.cacheReadInputTokens + b.cacheReadInputTokens,
  };
}

const ID = /^[a-z0-9-]{4,64}$/;

type SessionState = Omit<ChatSession, 'messages'>;

/** What was written of one session, so that the next save appends only the difference. */
interface Saved {
  count: number;
  lastJson: string;
}

/** A session file's size and age, for pruning. */
export interface SessionFile {
  id: string;
  bytes: number;
  mtimeMs: number;
}

export class SessionStore {
  private readonly saved = new WeakMap<ChatSession, Saved>();

  constructor(readonly dir: string) {}

  newId(): string {
    return `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
  }

  create(model: string): ChatSession {
    const now = new Date().toISOString();
    return {
      id: this.newId(),
      title: '',
      model,
      createdAt: now,
      updatedAt: now,
      messages: [],
      turns: [],
      usage: { ...ZERO_USAGE },
      alwaysAllowed: [],
    };
  }

  path(id: string): string {
    return join(this.dir, `${id}.jsonl`);
  }

  private legacyPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  load(id: string): ChatSession {
    if (!ID.test(id)) throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `"${id}" is not a session id.`);
    let text: string;
    try {
      text = readFileSync(this.path(id), 'utf8');
    } catch {
      return this.loadLegacy(id);
    }
    const messages: MessageParam[] = [];
    let state: SessionState | undefined;
    for (const line of text.split('\n')) {
      if (!line) continue;
      let record: { i?: number; m?: MessageParam; s?: SessionState };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        continue; // cut short by a crash mid-write
      }
      if (record.s) state = record.s;
      else if (record.m && typeof record.i === 'number' && record.i >= 0 && record.i <= messages.length) messages[record.i] = record.m;
    }
    if (!state)
      throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `Chat session "${id}" in ${this.dir} has no state record (the file is damaged).`);
    const session: ChatSession = { ...state, id, messages };
    this.saved.set(session, { count: messages.length, lastJson: messages.length ? JSON.stringify(messages.at(-1)) : '' });
    return session;
  }

  private loadLegacy(id: string): ChatSession {
    try {
      return JSON.parse(readFileSync(this.legacyPath(id), 'utf8')) as ChatSession;
    } catch (cause) {
      throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `No chat session "${id}" in ${this.dir}.`, { cause });
    }
  }

  /** Appends what changed since the last save (the whole session the first time). */
  save(session: ChatSession): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    session.updatedAt = new Date().toISOString();
    const file = this.path(session.id);
    const saved = this.saved.get(session);
    const lines: string[] = [];
    let from = saved?.count ?? 0;
    if (saved && from > 0 && from <= session.messages.length && JSON.stringify(session.messages[from - 1]) !== saved.lastJson) from -= 1;
    if (saved && from > session.messages.length) from = 0; // history was cut: write it anew
    for (let i = from; i < session.messages.length; i += 1) lines.push(JSON.stringify({ i, m: session.messages[i] }));
    const { messages: _messages, ...state } = session;
    lines.push(JSON.stringify({ s: state }));
    const text = `${lines.join('\n')}\n`;
    if (!saved || from === 0) {
      writeFileSync(file, text, { mode: 0o600 });
      rmSync(this.legacyPath(session.id), { force: true });
    } else {
      appendFileSync(file, text, { mode: 0o600 });
    }
    this.saved.set(session, {
      count: session.messages.length,
      lastJson: session.messages.length ? JSON.stringify(session.messages.at(-1)) : '',
    });
  }

  /** Session ids on disk with their sizes and ages, newest first. */
  files(): SessionFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const files: SessionFile[] = [];
    for (const name of names) {
      const match = /^(.+)\.jsonl?$/.exec(name);
      if (!match || !ID.test(match[1]!)) continue;
      try {
        const stat = statSync(join(this.dir, name));
        files.push({ id: match[1]!, bytes: stat.size, mtimeMs: stat.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    return files.sort((a, b) => b.mtimeMs - a.mtimeMs);
  }

  remove(id: string): void {
    rmSync(this.path(id), { force: true });
    rmSync(this.legacyPath(id), { force: true });
  }

  list(): ChatSession[] {
    const sessions: ChatSession[] = [];
    for (const { id } of this.files()) {
      try {
        sessions.push(this.load(id));
      } catch {
        // a damaged or foreign file: skip it
      }
    }
    return sessions.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
  }
}

export function summarize(session: ChatSession, running: boolean): ChatSessionSummary {
  return {
    id: session.id,
    title: session.title,
    model: session.model,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    turns: session.turns.length,
    usage: session.usage,
    running,
  };
}
