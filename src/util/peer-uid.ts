/**
 * Which user is at the other end of a loopback TCP connection (Linux): the owner of the peer's
 * socket, as the kernel lists it in /proc/net/tcp (or tcp6). Loopback is this machine, not this
 * user: a front that takes loopback connections without a token must still know whose they are.
 */
import { readFileSync } from 'node:fs';

/** An IPv4 address and port as /proc/net/tcp writes them: `0100007F:1F90`. */
function hex4(address: string, port: number): string {
  const bytes = address.split('.').map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase());
  return `${bytes.reverse().join('')}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** An IPv6 address and port as /proc/net/tcp6 writes them: four 32-bit words, each little-endian. */
function hex6(address: string, port: number): string | undefined {
  let text = address.toLowerCase();
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[2]!.split('.').map(Number) as [number, number, number, number];
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  const bytes = groups.flatMap((g) => {
    const n = parseInt(g || '0', 16);
    return [n >> 8, n & 0xff];
  });
  let out = '';
  for (let w = 0; w < 4; w += 1) {
    out += bytes
      .slice(w * 4, w * 4 + 4)
      .reverse()
      .map((b) => b.toString(16).padStart(2, '0').toUpperCase())
      .join('');
  }
  return `${out}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/**
 * The uid owning the peer's end of a connection seen here as `remote` → `local`, or undefined
 * when the kernel does not say (not Linux, not found).
 */
export function loopbackPeerUid(remote: { address: string; port: number }, local: { address: string; port: number }): number | undefined {
  const v6 = remote.address.includes(':');
  const peer = v6 ? hex6(remote.address, remote.port) : hex4(remote.address, remote.port);
  const us = v6 ? hex6(local.address, local.port) : hex4(local.address, local.port);
  if (!peer || !us) return undefined;
  let table: string;
  try {
    table = readFileSync(v6 ? '/proc/net/tcp6' : '/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // The peer's socket: its local address is our remote one, its remote ours.
    if (fields[1] === peer && fields[2] === us) {
      const uid = Number(fields[7]);
      return Number.isInteger(uid) ? uid : undefined;
    }
  }
  return undefined;
}
