/** The dashboard, as another front opens it (mcpd ui asks the control socket). */
export interface UiPort {
  /** The URL that logs a browser into the dashboard, opening its port if needed. */
  open(): Promise<{ url: string }>;
  /** The link that shows one call's App (`/ui/app/ID`), opening the dashboard's port if needed. */
  appLink(view: string): Promise<string>;
  /**
   * The sandbox page for an App of this declared CSP (`_meta.ui.csp`), framed by the dashboard
   * page of origin `parent`: another origin than the dashboard's. `dropped`: the declared sources
   * mcpd left out (they would open the sandbox to mcpd itself).
   */
  sandbox(csp: Record<string, unknown> | undefined, parent: string): Promise<{ url: string; dropped: string[] }>;
}
