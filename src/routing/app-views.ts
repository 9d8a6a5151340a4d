/**
 * The App views: for each call of a tool that has an App, what the App needs to show it (the
 * tool, its input and result, its `ui://` resource), under an unguessable id that the dashboard's
 * link names. In memory, bounded in count and age: a link outlives neither the daemon nor a day.
 */
import { randomBytes } from 'node:crypto';
import type { AppViewEntry } from '../protocol/types.js';

export const MAX_APP_VIEWS = 500;
export const APP_VIEW_TTL_MS = 24 * 60 * 60_000;

export class AppViews {
  private readonly views = new Map<string, AppViewEntry>();

  constructor(
    private readonly limit = MAX_APP_VIEWS,
    private readonly ttlMs = APP_VIEW_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  record(view: Omit<AppViewEntry, 'id' | 'at'>): string {
    const id = randomBytes(18).toString('base64url');
    this.views.set(id, { id, ...view, at: new Date(this.now()).toISOString() });
    // A Map keeps insertion order: the first entries are the oldest.
    while (this.views.size > this.limit) this.views.delete(this.views.keys().next().value!);
    return id;
  }

  /** The view, while it is kept; undefined once it expired, was pushed out, or never was. */
  get(id: string): AppViewEntry | undefined {
    const view = this.views.get(id);
    if (!view) return undefined;
    if (this.now() - Date.parse(view.at) > this.ttlMs) {
      this.views.delete(id);
      return undefined;
    }
    return view;
  }

  /** A server left the config: its views go with it. */
  forgetServer(server: string): void {
    for (const [id, view] of this.views) if (view.server === server) this.views.delete(id);
  }
}
