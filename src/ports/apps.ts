/** The Apps of calls made (routing/app-views.ts), for the dashboard to show. */
import type { AppViewEntry } from '../protocol/types.js';

export interface AppsPort {
  /** The view of this id while it is kept; undefined once expired or unknown. */
  get(id: string): AppViewEntry | undefined;
}
