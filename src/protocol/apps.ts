/**
 * MCP Apps (the `io.modelcontextprotocol/ui` extension) as the daemon reads them: which tool has
 * an App (its `ui://` resource), which tool is for its App only (never for a model), and which
 * clients can show one. The readings are ext-apps' app-bridge helpers (getToolUiResourceUri,
 * isToolVisibilityAppOnly), written out here: importing that module would load the v2 client and
 * ext-apps' schemas with the daemon, before its first server is spawned. test/unit/apps.test.ts
 * checks them against the package's own.
 */

/** The older flat key of a tool's App (`_meta["ui/resourceUri"]`), still read and passed on. */
export const RESOURCE_URI_META_KEY = 'ui/resourceUri';

export const UI_EXTENSION = 'io.modelcontextprotocol/ui';
export const APP_MIME_TYPE = 'text/html;profile=mcp-app';

/** What mcpd declares to a server it connects to: it can show Apps (in the dashboard). */
export const UI_CAPABILITY = { mimeTypes: [APP_MIME_TYPE] };

interface WithMeta {
  _meta?: Record<string, unknown> | undefined;
}

/** The tool's App (`_meta.ui.resourceUri`, or the older flat `_meta["ui/resourceUri"]`); a malformed one is none. */
export function appResourceOf(tool: WithMeta): string | undefined {
  const meta = tool._meta;
  if (meta === undefined) return undefined;
  let uri = (meta['ui'] as { resourceUri?: unknown } | undefined)?.resourceUri;
  if (uri === undefined) uri = meta[RESOURCE_URI_META_KEY];
  return typeof uri === 'string' && uri.startsWith('ui://') ? uri : undefined;
}

/** A tool its server made for its App alone (`_meta.ui.visibility: ["app"]`): no model may see or call it. */
export function isAppOnly(tool: WithMeta): boolean {
  const visibility = (tool._meta?.['ui'] as { visibility?: unknown } | undefined)?.visibility;
  return Array.isArray(visibility) && visibility.length === 1 && visibility[0] === 'app';
}

/** Whether an App may call this tool: its visibility includes `app` (the default: both). */
export function isAppCallable(tool: WithMeta): boolean {
  const visibility = (tool._meta?.['ui'] as { visibility?: unknown } | undefined)?.visibility;
  return !Array.isArray(visibility) || visibility.includes('app');
}

/** Whether a client's capabilities say it shows Apps (it declared the UI extension). */
export function showsApps(capabilities: { extensions?: Record<string, unknown> } | undefined): boolean {
  return capabilities?.extensions?.[UI_EXTENSION] !== undefined;
}

/** A client's capabilities without the UI extension (told to a server for a client that shows no Apps). */
export function withoutApps<C extends { extensions?: Record<string, unknown> }>(capabilities: C): C {
  if (capabilities.extensions?.[UI_EXTENSION] === undefined) return capabilities;
  const { [UI_EXTENSION]: _ui, ...extensions } = capabilities.extensions;
  return { ...capabilities, extensions };
}

/** The text line a result gets for a client that cannot show its App (`ui.appLinks`). */
export function appLinkLine(url: string): string {
  return `Open its app: ${url}`;
}

/** The largest App document mcpd shows (the npm examples are 0.2–0.5 MB, bundled into one file). */
export const MAX_APP_BYTES = 4 * 1024 * 1024;

/** What a ui:// resource's `_meta.ui` declares for its App. */
export interface AppResourceMeta {
  csp?: Record<string, unknown>;
  permissions?: Record<string, unknown>;
  prefersBorder?: boolean;
}

/** Why an App cannot be shown, said to the person looking at it. */
export class AppDocumentError extends Error {}

const asObject = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/**
 * The App's HTML from a resources/read of its ui:// resource, and its `_meta.ui` (the content's,
 * over the listed resource's): it must be `text/html;profile=mcp-app` and at most MAX_APP_BYTES.
 */
export function appDocumentOf(
  uri: string,
  read: { contents?: unknown },
  listed: Record<string, unknown> | undefined,
): { html: string; meta: AppResourceMeta } {
  const contents = Array.isArray(read.contents) ? (read.contents as Record<string, unknown>[]) : [];
  const content = contents.find((c) => c['uri'] === uri) ?? contents[0];
  if (!content) throw new AppDocumentError(`The App's resource ${uri} came back empty.`);
  const mime = typeof content['mimeType'] === 'string' ? content['mimeType'] : 'no type';
  if (mime.replace(/\s+/g, '').toLowerCase() !== APP_MIME_TYPE) {
    throw new AppDocumentError(`The App's resource ${uri} is ${mime}, not an App (${APP_MIME_TYPE}): mcpd shows only HTML Apps.`);
  }
  let html: string;
  if (typeof content['text'] === 'string') html = content['text'];
  else if (typeof content['blob'] === 'string') html = Buffer.from(content['blob'], 'base64').toString('utf8');
  else throw new AppDocumentError(`The App's resource ${uri} has neither text nor blob.`);
  const bytes = Buffer.byteLength(html);
  if (bytes > MAX_APP_BYTES) {
    throw new AppDocumentError(
      `The App's resource ${uri} is ${(bytes / 1024 / 1024).toFixed(1)} MB; mcpd shows Apps of up to ${MAX_APP_BYTES / 1024 / 1024} MB.`,
    );
  }
  const ui = { ...asObject(asObject(listed)?.['ui']), ...asObject(asObject(content['_meta'])?.['ui']) };
  const csp = asObject(ui['csp']);
  const permissions = asObject(ui['permissions']);
  return {
    html,
    meta: {
      ...(csp ? { csp } : {}),
      ...(permissions ? { permissions } : {}),
      ...(typeof ui['prefersBorder'] === 'boolean' ? { prefersBorder: ui['prefersBorder'] } : {}),
    },
  };
}
