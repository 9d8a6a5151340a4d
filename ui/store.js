// What the page knows of the daemon, kept current by its events. Views read it through
// useStore(); changes are batched to one render per animation frame (a log flood stays cheap).
import { useEffect, useState } from './html.js';
import { Daemon } from './rpc.js';

const MAX_LOG_LINES = 5_000;

export const daemon = new Daemon(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ui/ws`);

export const state = {
  connection: 'connecting',
  /** A line for the banner: reconnected, daemon stopping… */
  notice: null,
  status: null,
  tools: [],
  resources: [],
  prompts: [],
  logs: [],
  logsVersion: 0,
};

const subscribers = new Set();
let scheduled = false;

export function changed() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const subscriber of subscribers) subscriber();
  });
}

/** Re-renders the component whenever the store changes. */
export function useStore() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const subscriber = () => setTick((t) => t + 1);
    subscribers.add(subscriber);
    return () => subscribers.delete(subscriber);
  }, []);
  return state;
}

export function notify(text, kind = 'info') {
  state.notice = { text, kind, at: Date.now() };
  changed();
}

export async function refreshStatus() {
  state.status = await daemon.request('status');
  changed();
}

export async function refreshCatalogue() {
  const [tools, resources, prompts] = await Promise.all([
    daemon.request('tools.list'),
    daemon.request('resources.list'),
    daemon.request('prompts.list'),
  ]);
  state.tools = tools.tools;
  state.resources = resources.resources;
  state.prompts = prompts.prompts;
  changed();
}

let catalogueTimer;
function refreshCatalogueSoon() {
  clearTimeout(catalogueTimer);
  catalogueTimer = setTimeout(() => {
    refreshCatalogue().catch(() => undefined);
    refreshStatus().catch(() => undefined);
  }, 150);
}

function pushLog(entry) {
  state.logs.push(entry);
  if (state.logs.length > MAX_LOG_LINES) state.logs.splice(0, state.logs.length - MAX_LOG_LINES);
  state.logsVersion += 1;
  changed();
}

daemon.on('state', (connection) => {
  state.connection = connection;
  if (connection === 'connecting' && state.status) notify('The daemon went away; reconnecting…', 'warn');
  changed();
});

daemon.on('open', async ({ previous, reconnected }) => {
  const now = daemon.info;
  if (reconnected)
    notify(
      previous && previous.pid !== now.pid
        ? `Reconnected: the daemon restarted (pid ${previous.pid} → ${now.pid}).`
        : 'Reconnected to the daemon.',
      'ok',
    );
  try {
    const [{ entries }] = await Promise.all([daemon.request('logs.read', { lines: 2_000 }), refreshStatus(), refreshCatalogue()]);
    state.logs = entries;
    state.logsVersion += 1;
    changed();
  } catch (error) {
    notify(`Could not load the daemon's state: ${error.message}`, 'error');
  }
});

daemon.on('server:state', (event) => {
  if (!state.status) return;
  const servers = state.status.servers;
  const index = servers.findIndex((s) => s.name === event.server);
  // Removed (by a reload, or a chat's own server when its chat ended): out of the table.
  if (event.state === 'disposed') {
    if (index >= 0) servers.splice(index, 1);
  } else if (index >= 0) servers[index] = event.status;
  else servers.push(event.status);
  changed();
});
daemon.on('catalogue:changed', refreshCatalogueSoon);
daemon.on('log:line', pushLog);
for (const event of ['config:reloaded', 'client:connected', 'client:disconnected'])
  daemon.on(event, () => refreshStatus().catch(() => undefined));
daemon.on('config:reloaded', refreshCatalogueSoon);
daemon.on('daemon:stopping', ({ reason }) => notify(`The daemon is stopping (${reason}).`, 'warn'));

// Uptimes and memory move on their own: a fresh status now and then (one small request).
setInterval(() => {
  if (daemon.state === 'open' && document.visibilityState === 'visible') refreshStatus().catch(() => undefined);
}, 5_000);
