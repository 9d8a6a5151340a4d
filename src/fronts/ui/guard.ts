/**
 * Who may use the dashboard: the person who opened the URL `mcpd ui` gave. That URL carries a
 * random token made at each daemon start (MCPD_HOME/ui.token, 0600), exchanged for a cookie
 * (HttpOnly, SameSite=Strict) signed with a key kept in MCPD_HOME/ui.key (0600): a page left open
 * keeps working across daemon restarts, and deleting the key signs every browser out.
 * Every request and the live connection need that cookie, a Host naming this listener (DNS
 * rebinding) and, when the browser sends one, this listener's own Origin (other pages, even on
 * another loopback port, which browsers count as the same site).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/files.js';
import { DOORS, refusal } from '../door.js';

const KEY_BYTES = 32;

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The signing key, made once per home; a key file that is not ours in size is replaced. One
 * that cannot be written (a full disk) is kept in memory: cookies then last as long as this
 * daemon does.
 */
function loadKey(file: string): Buffer {
  try {
    const key = readFileSync(file);
    if (key.length === KEY_BYTES) return key;
  } catch {
    // none yet
  }
  const key = randomBytes(KEY_BYTES);
  try {
    writeFileAtomic(file, key);
  } catch {
    // this daemon's cookies only
  }
  return key;
}

export class UiGuard {
  /** This daemon start's login token (also in MCPD_HOME/ui.token). */
  readonly token = randomBytes(24).toString('base64url');
  private readonly key: Buffer;

  /** Why the dashboard cannot be opened (its token file could not be written), if it cannot. */
  readonly unavailable: Error | undefined;

  constructor(home: string) {
    try {
      writeFileAtomic(join(home, 'ui.token'), `${this.token}\n`);
    } catch (error) {
      this.unavailable = error as Error;
    }
    this.key = loadKey(join(home, 'ui.key'));
  }

  /** Cookies are per host, not per port: each listener has its own name, so two daemons never clash. */
  cookieName(port: number): string {
    return `mcpd_ui_${port}`;
  }

  checkToken(given: string | null): boolean {
    return given !== null && sameText(given, this.token);
  }

  /** A Set-Cookie value for a browser that showed the token. */
  issueCookie(port: number): string {
    const id = randomBytes(16).toString('base64url');
    return `${this.cookieName(port)}=${id}.${this.sign(id)}; Path=/ui; HttpOnly; SameSite=Strict`;
  }

  hasCookie(req: IncomingMessage, port: number): boolean {
    return this.signedCookie(req, this.cookieName(port), 'mcpd-ui') !== undefined;
  }

  /**
   * A Set-Cookie for a browser that opened an App view's own link: it loads the page's files,
   * nothing else (the view's connection is authorized by its id, handler.ts).
   */
  issueViewCookie(port: number, view: string): string {
    return `mcpd_app_${port}=${view}.${this.sign(view, 'mcpd-app')}; Path=/ui; HttpOnly; SameSite=Strict`;
  }

  hasViewCookie(req: IncomingMessage, port: number): boolean {
    return this.signedCookie(req, `mcpd_app_${port}`, 'mcpd-app') !== undefined;
  }

  /** The id of a cookie of this name whose signature (for `purpose`) holds, if one was sent. */
  private signedCookie(req: IncomingMessage, name: string, purpose: string): string | undefined {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [key, value] = part.trim().split('=', 2);
      if (key !== name || !value) continue;
      const dot = value.lastIndexOf('.');
      if (dot > 0 && sameText(value.slice(dot + 1), this.sign(value.slice(0, dot), purpose))) return value.slice(0, dot);
    }
    return undefined;
  }

  /**
   * Null when Host (and Origin, when sent or `originRequired`) name this listener; else why not.
   * The Origin must be this very page's (http:// and the request's own Host).
   */
  refusal(req: IncomingMessage, port: number, originRequired: boolean): string | null {
    return refusal(req.headers, DOORS.dashboard(port, originRequired))?.reason ?? null;
  }

  private sign(id: string, purpose = 'mcpd-ui'): string {
    return createHmac('sha256', this.key).update(`${purpose}:${id}`).digest('base64url');
  }
}
