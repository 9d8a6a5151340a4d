/**
 * Chat sessions on disk: one append-only JSON Lines file each under MCPD_HOME/sessions. A save
 * appends only what changed since the last one (new messages, the last message if a turn added
 * to it, and a small state record), so a long session costs what it adds, not its whole length.
 *   {"i": 3, "m": {...}}   message 3 is this (a new one, or the last one rewritten)
 *   {"s": {...}}           the session's state (title, model, usage, turns...); the last wins
 * A line cut short by a crash is skipped on load. Sessions from older builds (`ID.json`) load too.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { McpdError } from '../errors.js';
import { homeIoError, writeFileAtomic } from '../util/files.js';
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
  /** The file may end in the middle of a line (a write cut short): the next append starts a new one. */
  torn?: boolean;
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

  /**
   * Reads a session. A record that cannot be read (a write cut short, a full disk) costs only
   * itself: the others load, the history is closed up where it lost a message, and the next save
   * writes the file anew.
   */
  load(id: string): ChatSession {
    if (!ID.test(id)) throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `"${id}" is not a session id.`);
    let text: string;
    try {
      text = readFileSync(this.path(id), 'utf8');
    } catch {
      return this.loadLegacy(id);
    }
    const byIndex = new Map<number, MessageParam>();
    let state: SessionState | undefined;
    let damaged = false;
    for (const line of text.split('\n')) {
      if (!line) continue;
      let record: { i?: number; m?: MessageParam; s?: SessionState };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        damaged = true; // cut short mid-write, or glued to one that was
        continue;
      }
      if (record.s) state = record.s;
      else if (record.m && typeof record.i === 'number' && Number.isInteger(record.i) && record.i >= 0) byIndex.set(record.i, record.m);
    }
    if (!state)
      throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `Chat session "${id}" in ${this.dir} has no state record (the file is damaged).`);
    const indices = [...byIndex.keys()].sort((a, b) => a - b);
    const messages = indices.map((i) => byIndex.get(i)!);
    // A message lost in between: the indices on disk no longer match the history.
    const gaps = indices.some((index, position) => index !== position);
    const session: ChatSession = { ...state, id, messages };
    this.saved.set(
      session,
      damaged || gaps
        ? { count: 0, lastJson: '' }
        : { count: messages.length, lastJson: messages.length ? JSON.stringify(messages.at(-1)) : '', torn: !text.endsWith('\n') },
    );
    return session;
  }

  private loadLegacy(id: string): ChatSession {
    try {
      return JSON.parse(readFileSync(this.legacyPath(id), 'utf8')) as ChatSession;
    } catch (cause) {
      throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `No chat session "${id}" in ${this.dir}.`, { cause });
    }
  }

  /**
   * Appends what changed since the last save (the whole session the first time, or after a
   * load that found damage, through a temporary file: never a torn file). A failed write throws
   * MCPD_HOME_FULL or MCPD_HOME_UNWRITABLE naming the file, and the next save writes it again.
   */
  save(session: ChatSession): void {
    const file = this.path(session.id);
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw homeIoError(error, this.dir, 'create');
    }
    session.updatedAt = new Date().toISOString();
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
      writeFileAtomic(file, text);
      rmSync(this.legacyPath(session.id), { force: true });
    } else {
      try {
        appendFileSync(file, saved.torn ? `\n${text}` : text, { mode: 0o600 });
      } catch (error) {
        // Part of it may be on disk: the next append starts on a line of its own.
        saved.torn = true;
        throw homeIoError(error, file);
      }
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
