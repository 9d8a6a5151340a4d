/** The dashboard, as another front opens it (mcpd ui asks the control socket). */
export interface UiPort {
  /** The URL that logs a browser into the dashboard, opening its port if needed. */
  open(): Promise<{ url: string }>;
}
