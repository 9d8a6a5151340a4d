/**
 * An HTTP server on a Unix domain socket in MCPD_HOME, as the control socket and the bridge's
 * MCP socket use it: 0600 (the 0700 home and the file mode are the authentication), removed when
 * closed, and plain HTTP refusals before any WebSocket upgrade.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

export async function listenOnSocket(http: Server, socketPath: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(socketPath, () => {
      http.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
}

export async function closeSocket(http: Server, socketPath: string): Promise<void> {
  await new Promise<void>((resolve) => http.close(() => resolve()));
  try {
    unlinkSync(socketPath);
  } catch {
    // already gone
  }
}

/** Answers an upgrade request with a plain HTTP error and closes the connection. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`,
  );
}
