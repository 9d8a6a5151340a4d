/**
 * The chat sessions in memory: loaded from the store on first use, dropped again when idle so a
 * long-running daemon holds only the sessions being used (they stay on disk).
 */
import type { ChatSession, SessionStore } from './session-store.js';

/** A session nobody watches and no turn runs in leaves memory after this (it stays on disk). */
export const SESSION_IDLE_MS = 10 * 60_000;
/** At most this many sessions in memory; the least recently used idle ones go first. */
export const MAX_CACHED_SESSIONS = 32;

export class SessionCache {
  private readonly sessions = new Map<string, ChatSession>();
  private readonly lastUsed = new Map<string, number>();

  constructor(
    private readonly store: SessionStore,
    /** A session a turn runs in or a client watches is never dropped. */
    private readonly inUse: (id: string) => boolean,
    /** Told of each session dropped. */
    private readonly onEvicted: (id: string) => void,
    /** Told of each session read from disk, before anyone uses it. */
    private readonly onLoaded: (session: ChatSession) => void = () => undefined,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  peek(id: string): ChatSession | undefined {
    return this.sessions.get(id);
  }

  values(): ChatSession[] {
    return [...this.sessions.values()];
  }

  /** The session, loaded if it is not in memory (throws MCPD_CHAT_SESSION_UNKNOWN). */
  get(id: string): ChatSession {
    const cached = this.sessions.get(id);
    if (cached) {
      this.touch(id);
      return cached;
    }
    const session = this.store.load(id);
    this.onLoaded(session);
    this.add(session);
    return session;
  }

  add(session: ChatSession): void {
    this.sessions.set(session.id, session);
    this.touch(session.id);
    if (this.sessions.size > MAX_CACHED_SESSIONS) this.evictIdle();
  }

  touch(id: string): void {
    this.lastUsed.set(id, Date.now());
  }

  delete(id: string): void {
    this.sessions.delete(id);
    this.lastUsed.delete(id);
  }

  /**
   * Drops the sessions not in use: those idle for `idleMs`, and past MAX_CACHED_SESSIONS the
   * least recently used. A session that never had a turn was never written: it stays until idle.
   */
  evictIdle(now = Date.now(), idleMs = SESSION_IDLE_MS): number {
    const idle = [...this.sessions.keys()]
      .filter((id) => !this.inUse(id))
      .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0));
    let evicted = 0;
    for (const id of idle) {
      const over = this.sessions.size > MAX_CACHED_SESSIONS;
      const idleFor = now - (this.lastUsed.get(id) ?? 0);
      if (!over && idleFor < idleMs) continue;
      if (this.sessions.get(id)!.turns.length === 0 && idleFor < idleMs) continue;
      this.delete(id);
      this.onEvicted(id);
      evicted += 1;
    }
    return evicted;
  }
}
