/** Chat sessions on disk: one JSON file each under MCPD_HOME/sessions, written atomically. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { McpdError } from '../errors.js';
import type { ChatSessionSummary, TokenUsage } from '../model.js';

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

export class SessionStore {
  constructor(readonly dir: string) {}

  newId(): string {
    return `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
  }

  create(model: string): ChatSession {
    const now = new Date().toISOString();
    return { id: this.newId(), title: '', model, createdAt: now, updatedAt: now, messages: [], turns: [], usage: { ...ZERO_USAGE }, alwaysAllowed: [] };
  }

  path(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  load(id: string): ChatSession {
    if (!ID.test(id)) throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `"${id}" is not a session id.`);
    try {
      return JSON.parse(readFileSync(this.path(id), 'utf8')) as ChatSession;
    } catch (cause) {
      throw new McpdError('MCPD_CHAT_SESSION_UNKNOWN', `No chat session "${id}" in ${this.dir}.`, { cause });
    }
  }

  save(session: ChatSession): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    session.updatedAt = new Date().toISOString();
    const file = this.path(session.id);
    writeFileSync(`${file}.tmp`, JSON.stringify(session), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  list(): ChatSession[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const sessions: ChatSession[] = [];
    for (const name of names) {
      try {
        sessions.push(this.load(name.slice(0, -5)));
      } catch {
        // a half-written or foreign file: skip it
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
