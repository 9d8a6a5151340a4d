/**
 * The limits every HTTP listener of the daemon keeps, so that no client (or a thousand half-open
 * connections) can use up its file descriptors: a cap on connections (past it new ones are
 * refused at once, and the log says so, once a minute), and headers that must arrive within
 * `headersTimeoutMs`, checked every second rather than Node's default thirty.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
export interface HttpLimits {
  /** How the log names the listener: "HTTP gateway". */
  label: string;
  maxConnections: number;
  headersTimeoutMs: number;
  warn: (text: string) => void;
}

const LOG_EVERY_MS = 60_000;

export function limitedServer(limits: HttpLimits, listener: RequestListener<typeof IncomingMessage, typeof ServerResponse>): Server {
  const server = createServer({ connectionsCheckingInterval: 1_000, headersTimeout: limits.headersTimeoutMs }, listener);
  server.requestTimeout = Math.max(limits.headersTimeoutMs, 60_000);
  server.maxConnections = limits.maxConnections;
  let lastLogged = 0;
  let dropped = 0;
  server.on('drop', () => {
    dropped += 1;
    const now = Date.now();
    if (now - lastLogged < LOG_EVERY_MS) return;
    lastLogged = now;
    limits.warn(`${limits.label}: at its limit of ${limits.maxConnections} connections; refused ${dropped} since it last said so`);
    dropped = 0;
  });
  return server;
}
