// MCP Apps in the dashboard: one call's App (an App view of the daemon, apps.view), shown in the
// double-iframe sandbox on another origin and driven by ext-apps' own host side (AppBridge,
// bundled as vendor/app-bridge.js). What the App asks goes to the daemon as the App's own
// requests (apps.call, apps.read, apps.log, apps.message): the daemon keeps it to its server.
import { html, useEffect, useRef, useState } from './html.js';

/** Past this many messages in a second, an App is stopped (it would freeze the page). */
const FLOOD_PER_SECOND = 300;
const MIN_HEIGHT = 80;
const MAX_HEIGHT = 1_600;

/** The person decides an App's call that chat.approval asks about (the daemon asks: app.approve). */
const answering = new WeakSet();
function answerApprovals(daemon) {
  if (answering.has(daemon)) return;
  answering.add(daemon);
  daemon.handle('app.approve', async ({ tool, arguments: args }) => ({
    decision: window.confirm(
      `An App wants to call ${tool} with\n${JSON.stringify(args, null, 2).slice(0, 500)}\n\nchat.approval asks first. Allow it (for this App from now on)?`,
    )
      ? 'always'
      : 'no',
  }));
}

let bridgeModule;
const loadBridge = () => (bridgeModule ??= import('./vendor/app-bridge.js'));

/** The dashboard's look, for the App to match (theme and the standard CSS variables). */
function hostContext() {
  const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches;
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    theme: dark ? 'dark' : 'light',
    platform: 'web',
    displayMode: 'inline',
    availableDisplayModes: ['inline'],
    locale: navigator.language,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    styles: {
      variables: {
        '--color-background-primary': v('--panel'),
        '--color-background-secondary': v('--bg'),
        '--color-text-primary': v('--fg'),
        '--color-text-secondary': v('--muted'),
        '--color-border-primary': v('--line'),
        '--color-text-info': v('--accent'),
        '--color-text-success': v('--ok'),
        '--color-text-danger': v('--bad'),
        '--font-sans': 'system-ui, -apple-system, "Segoe UI", sans-serif',
      },
    },
  };
}

const textOf = (content) =>
  (content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');

/**
 * One App view. `view` is what apps.view gives (server, tool, input, result); `daemon` the
 * connection its requests go on (the dashboard's, or a view link's own).
 */
export function AppFrame({ daemon, view }) {
  const box = useRef(null);
  const [failure, setFailure] = useState(null);
  const [warning, setWarning] = useState(null);
  const [height, setHeight] = useState(360);
  const [state, setState] = useState('loading');

  useEffect(() => {
    answerApprovals(daemon);
    let closed = false;
    let bridge;
    let frame;
    let stopListening = () => undefined;
    const stop = (message) => {
      if (closed) return;
      closed = true;
      stopListening();
      bridge?.close().catch(() => undefined);
      frame?.remove();
      setFailure(message);
      setState('stopped');
    };
    (async () => {
      const [{ AppBridge, PostMessageTransport, buildAllowAttribute }, doc] = await Promise.all([
        loadBridge(),
        daemon.request('apps.document', { view: view.id, parent: location.origin }),
      ]);
      if (closed) return;
      if (doc.dropped.length > 0)
        setWarning(`mcpd left out of this App's CSP what would open it to mcpd itself: ${doc.dropped.join(', ')}`);
      frame = document.createElement('iframe');
      frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms');
      const allow = buildAllowAttribute(doc.permissions);
      if (allow) frame.setAttribute('allow', allow);
      frame.title = `App of ${view.tool}`;
      frame.dataset.testid = 'app-frame';
      frame.className = doc.prefersBorder === false ? 'app-frame borderless' : 'app-frame';
      box.current.appendChild(frame);

      // An App that floods the page with messages is stopped, with a message in its place.
      let second = 0;
      let count = 0;
      const watch = (event) => {
        if (event.source !== frame.contentWindow) return;
        const now = Math.floor(performance.now() / 1000);
        if (now !== second) {
          second = now;
          count = 0;
        }
        count += 1;
        if (count > FLOOD_PER_SECOND) stop(`This App sent more than ${FLOOD_PER_SECOND} messages in a second; mcpd stopped it.`);
      };
      window.addEventListener('message', watch);
      stopListening = () => window.removeEventListener('message', watch);

      bridge = new AppBridge(
        null,
        { name: 'mcpd', version: daemon.info?.version ?? '0' },
        {
          openLinks: {},
          serverTools: {},
          serverResources: {},
          logging: {},
          ...(view.sessionId ? { message: { text: {} } } : {}),
        },
        { hostContext: hostContext() },
      );
      const request = (method, params) => daemon.request(method, { view: view.id, ...params });
      bridge.oncalltool = (params) => request('apps.call', { name: params.name, arguments: params.arguments ?? {} });
      bridge.onreadresource = (params) => request('apps.read', { uri: params.uri });
      bridge.onloggingmessage = (params) => void request('apps.log', { level: params.level, data: params.data }).catch(() => undefined);
      bridge.onmessage = async (params) => {
        try {
          await request('apps.message', { text: textOf(params.content) });
          return {};
        } catch (error) {
          setWarning(error.message);
          return { isError: true };
        }
      };
      bridge.onopenlink = async ({ url }) => {
        // A link opens only when the person says so, in a new tab without a way back to this page.
        if (!/^https?:\/\//i.test(url) || !window.confirm(`The App of ${view.tool} wants to open\n${url}\n\nOpen it?`))
          return { isError: true };
        window.open(url, '_blank', 'noopener,noreferrer');
        return {};
      };
      bridge.onsizechange = ({ height: wanted }) => {
        if (typeof wanted === 'number') setHeight(Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, Math.ceil(wanted))));
      };
      bridge.onrequestteardown = () => stop('The App closed itself.');
      bridge.onsandboxready = () =>
        void bridge.sendSandboxResourceReady({
          html: doc.html,
          ...(doc.csp ? { csp: doc.csp } : {}),
          ...(doc.permissions ? { permissions: doc.permissions } : {}),
        });
      bridge.oninitialized = () => {
        setState('running');
        void bridge.sendToolInput({ arguments: view.input ?? {} });
        void bridge.sendToolResult(view.result);
      };
      await bridge.connect(new PostMessageTransport(frame.contentWindow, frame.contentWindow));
      frame.src = doc.sandbox;
    })().catch((error) => stop(error.message));
    return () => {
      if (closed) return;
      closed = true;
      stopListening();
      bridge?.teardownResource({}).catch(() => undefined);
      bridge?.close().catch(() => undefined);
      frame?.remove();
    };
  }, [view.id]);

  return html`<div class="app-view" data-testid="app-view" data-state=${state} data-server=${view.server}>
    <div class="app-head muted">App of <code>${view.tool}</code> (server ${view.server})</div>
    ${warning ? html`<div class="notice notice-warn" data-testid="app-warning">${warning}</div>` : ''}
    ${failure ? html`<div class="error" data-testid="app-error">${failure}</div>` : ''}
    <div class="app-box" ref=${box} style=${`height:${failure ? 0 : height}px`}></div>
  </div>`;
}

/** An App view fetched by its id (a chat's tool call, a view link), then shown. */
export function AppById({ daemon, id }) {
  const [view, setView] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setView(null);
    setError(null);
    daemon.request('apps.view', { view: id }).then(
      (r) => setView(r.view),
      (e) => setError(e.message),
    );
  }, [id]);
  if (error) return html`<div class="error" data-testid="app-error">${error}</div>`;
  if (!view) return html`<div class="muted">Loading the App…</div>`;
  return html`<${AppFrame} daemon=${daemon} view=${view} />`;
}
