/** A front: something clients reach the daemon through. Started after the core, closed on stop. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FrontStatus } from '../protocol/types.js';

export interface Front {
  readonly name: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Where it listens and how many sessions it holds, for `mcpd status`. */
  describe(): FrontStatus;
  /** Loads now what it loads on first use, once the daemon is ready (its servers have started). */
  warm?(): Promise<void>;
}

/** Pages one front serves on another's HTTP listener (the dashboard on the gateway). */
export interface HttpMount {
  /** Whether a path is this mount's. */
  owns(pathname: string): boolean;
  /** Answers one request; `port` is the listener's (Host and Origin must name it). */
  handle(req: IncomingMessage, res: ServerResponse, port: number): Promise<void>;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, port: number): void;
}
