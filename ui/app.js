// The mcpd dashboard: one page, hash routes, one live connection to the daemon.
import { html, render, useEffect, useState } from './html.js';
import { daemon, useStore } from './store.js';
import { ServersView } from './views/servers.js';
import { ToolsView } from './views/tools.js';
import { PromptsView, ResourcesView } from './views/catalogue.js';
import { LogsView } from './views/logs.js';
import { ChatView } from './views/chat.js';
import { ClientsView } from './views/clients.js';

const TABS = [
  ['servers', 'Servers'],
  ['tools', 'Tools'],
  ['resources', 'Resources'],
  ['prompts', 'Prompts'],
  ['logs', 'Logs'],
  ['chat', 'Chat'],
  ['clients', 'Clients & plugins'],
];

/** `#/tools/NAME?q=x` → { tab: 'tools', id: 'NAME', query: { q: 'x' } } */
function parseRoute() {
  const [path, search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [tab = 'servers', ...rest] = path.split('/');
  return { tab, id: rest.length ? decodeURIComponent(rest.join('/')) : undefined, query: Object.fromEntries(new URLSearchParams(search)) };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const update = () => setRoute(parseRoute());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

function Connection() {
  const { connection, notice, status } = useStore();
  const label = {
    open: `connected to mcpd ${daemon.info?.version ?? ''} (pid ${daemon.info?.pid ?? '?'})`,
    connecting: status ? 'daemon unreachable — reconnecting…' : 'connecting…',
    'signed-out': 'signed out: this browser is not signed in any more. Run mcpd ui for a new link.',
  }[connection];
  return html`<div class="connection">
    <span class=${`dot conn-${connection}`} data-testid="connection" data-state=${connection}>${label}</span>
    ${notice && Date.now() - notice.at < 15_000 ? html`<span class=${`notice notice-${notice.kind}`} data-testid="notice">${notice.text}</span>` : ''}
  </div>`;
}

function App() {
  const route = useRoute();
  const { status, tools, resources, prompts } = useStore();
  const counts = { servers: status?.servers.length, tools: tools.length, resources: resources.length, prompts: prompts.length };
  let view;
  switch (route.tab) {
    case 'tools':
      view = html`<${ToolsView} selected=${route.id} query=${route.query.q} server=${route.query.server} />`;
      break;
    case 'resources':
      view = html`<${ResourcesView} uri=${route.query.uri} />`;
      break;
    case 'prompts':
      view = html`<${PromptsView} selected=${route.id} />`;
      break;
    case 'logs':
      view = html`<${LogsView} source=${route.query.source} />`;
      break;
    case 'chat':
      view = html`<${ChatView} sessionId=${route.id} />`;
      break;
    case 'clients':
      view = html`<${ClientsView} />`;
      break;
    default:
      view = html`<${ServersView} selected=${route.id} />`;
  }
  return html`<header>
      <a class="brand" href="#/servers"><img src="icon.svg" alt="" width="22" height="22" /> mcpd</a>
      <nav>${TABS.map(([tab, label]) => html`<a href=${`#/${tab}`} class=${route.tab === tab || (tab === 'servers' && !TABS.some(([t]) => t === route.tab)) ? 'active' : ''} data-tab=${tab}>${label}${counts[tab] != null ? html` <span class="count">${counts[tab]}</span>` : ''}</a>`)}</nav>
      <${Connection} />
    </header>
    <main>${view}</main>`;
}

daemon.connect();
const root = document.getElementById('app');
root.textContent = ''; // the "Loading" line
render(html`<${App} />`, root);
