/**
 * The one door every listener's requests come through: `Host` against DNS rebinding, `Origin`
 * against other pages, and the bearer token where one is set. Each listener states its policy
 * (door.test.ts holds the table of what each lets in); nothing else decides who may enter.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface DoorPolicy {
  /** How refusals name the listener: "this gateway", "this dashboard". */
  label: string;
  /**
   * Which `Host` values may come in: `any`; `loopback` (a loopback name at any port, or no Host
   * at all, as over a Unix socket); `names`, exactly the listener's `names`.
   */
  host: 'any' | 'loopback' | 'names';
  /** The listener's `host:port` names (listenerNames), for `host: 'names'` and `origin: 'listener'`. */
  names?: readonly string[];
  /**
   * `refuse`: a request with an Origin is refused (no browser page may come in).
   * `listener`: an Origin, when sent, must name one of the listener's host names.
   * `same-as-host`: when sent, it must be `http://` and the very Host of the request (a page of this
   * listener under this name); `same-as-host-required`: and it must be sent.
   */
  origin: 'refuse' | 'listener' | 'same-as-host' | 'same-as-host-required';
  /** A bearer token every request must carry (`Authorization: Bearer TOKEN`). */
  token?: string | undefined;
  /** Where the token is set, for the refusal's hint. */
  tokenSetting?: string;
}

export interface Refusal {
  status: 401 | 403;
  /** Why, as a clause ("Host ... is not this gateway"); a response prefixes "Forbidden: ". */
  reason: string;
  headers?: Record<string, string>;
}

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

/** The names a listener on `host:port` answers to: the loopback names, and its own. */
export function listenerNames(host: string, port: number): string[] {
  const own = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return [...new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, own.toLowerCase()])];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Null when the request may come in; otherwise why not. */
export function refusal(headers: IncomingHttpHeaders, policy: DoorPolicy): Refusal | null {
  const host = (headers.host ?? '').toLowerCase();
  const origin = headers.origin;
  if (policy.origin === 'refuse' && origin !== undefined) return { status: 403, reason: 'requests with an Origin header are refused' };
  const names = policy.names ?? [];
  const hostOk = policy.host === 'any' || (policy.host === 'loopback' ? host === '' || LOOPBACK_HOST.test(host) : names.includes(host));
  if (!hostOk) return { status: 403, reason: `Host "${host}" is not ${policy.label} (DNS rebinding protection)` };
  if (policy.origin === 'listener' && origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return { status: 403, reason: 'malformed Origin' };
    }
    if (!names.includes(originHost)) return { status: 403, reason: `Origin ${origin} may not use ${policy.label}` };
  }
  if (policy.origin === 'same-as-host' || policy.origin === 'same-as-host-required') {
    if (origin === undefined) {
      if (policy.origin === 'same-as-host-required') return { status: 403, reason: 'no Origin header' };
    } else if (origin.toLowerCase() !== `http://${host}`) {
      return { status: 403, reason: `Origin ${origin} may not use ${policy.label}` };
    }
  }
  if (policy.token !== undefined) {
    const header = headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Digests of equal length, compared in constant time: neither length nor content leaks.
    if (!timingSafeEqual(digest(given), digest(policy.token))) {
      return {
        status: 401,
        reason: `send Authorization: Bearer TOKEN${policy.tokenSetting ? ` (${policy.tokenSetting})` : ''}`,
        headers: { 'WWW-Authenticate': 'Bearer realm="mcpd"' },
      };
    }
  }
  return null;
}

/** The doors of mcpd's listeners, each front's policy (door.test.ts holds what each lets in). */
export const DOORS = {
  /** The control socket: no browser page may drive the daemon, and no name but loopback. */
  control: { label: 'loopback', host: 'loopback', origin: 'refuse' } as DoorPolicy,
  /** The bridge's MCP socket: file permissions authenticate; no browser page may come in. */
  mcpSocket: { label: 'this socket', host: 'any', origin: 'refuse' } as DoorPolicy,
  /** The HTTP gateway: on loopback its own names only (DNS rebinding); off it, the token. */
  gateway(host: string, port: number, token: string | undefined, loopback: boolean): DoorPolicy {
    return {
      label: 'this gateway',
      host: loopback ? 'names' : 'any',
      names: listenerNames(host, port),
      origin: 'listener',
      token,
      tokenSetting: 'gateway.http.token',
    };
  },
  /** The dashboard: this page's own origin only; its live connection must say it. */
  dashboard(port: number, originRequired: boolean): DoorPolicy {
    return {
      label: 'this dashboard',
      host: 'names',
      names: listenerNames('127.0.0.1', port),
      origin: originRequired ? 'same-as-host-required' : 'same-as-host',
    };
  },
};

/** The status line's text and body of a refusal as an HTTP answer. */
export function refusalText(refused: Refusal): string {
  return `${refused.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${refused.reason}`;
}
