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
  const file = v6 ? '/proc/net/tcp6' : '/proc/net/tcp';
  // The peer's socket: its local address is our remote one, its remote ours.
  const key = `${peer} ${us}`;
  const known = seen.get(key);
  if (known !== undefined && known.until > Date.now()) return known.uid;
  readTable(file);
  return seen.get(key)?.uid;
}

/**
 * Established connections from the last reads of the tables, by 4-tuple. Reading a table costs
 * the kernel a walk of its whole socket hash (about 6 ms here, however few sockets there are),
 * and connections come in bursts (a client opening its pool): one read serves every connection
 * it lists. Safe to reuse: an entry is an established peer socket, so its server end is open
 * here or waiting to be accepted, and the 4-tuple cannot belong to anyone else until this end
 * closes it — which is when `forgetPeer` drops it. Entries also expire, so nothing lingers.
 */
const seen = new Map<string, { uid: number; until: number }>();
const KEEP_MS = 2_000;
const ESTABLISHED = '01';

function readTable(file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const now = Date.now();
  for (const [key, entry] of seen) if (entry.until <= now) seen.delete(key);
  const found = new Set<string>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const uid = Number(fields[7]);
    const key = `${fields[1]} ${fields[2]}`;
    // The first line of a 4-tuple, as the kernel lists them.
    if (fields[3] !== ESTABLISHED || !Number.isInteger(uid) || found.has(key)) continue;
    found.add(key);
    seen.set(key, { uid, until: now + KEEP_MS });
  }
}

/** This end of the connection closed: its 4-tuple may be someone else's next. */
export function forgetPeer(remote: { address: string; port: number }, local: { address: string; port: number }): void {
  const v6 = remote.address.includes(':');
  const peer = v6 ? hex6(remote.address, remote.port) : hex4(remote.address, remote.port);
  const us = v6 ? hex6(local.address, local.port) : hex4(local.address, local.port);
  if (peer && us) seen.delete(`${peer} ${us}`);
}
