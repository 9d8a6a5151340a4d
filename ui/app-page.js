// One call's App at its own link (/ui/app/ID, printed by `mcpd call` and the chat REPL): the
// link is the key to that view alone, so its connection (/ui/ws?app=ID) reaches nothing else.
import { html, render, useEffect, useState } from './html.js';
import { Daemon } from './rpc.js';
import { AppById } from './apps.js';

const id = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const daemon = new Daemon(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ui/ws?app=${encodeURIComponent(id)}`, {
  subscribe: false,
  check: location.pathname,
});

const STATES = {
  connecting: 'connecting to mcpd…',
  'signed-out': 'This App view is no longer open to this link.',
  expired: 'This App view has expired: views last a day, and not past a daemon restart. Call the tool again for a fresh link.',
};

function Page() {
  const [state, setState] = useState(daemon.state);
  const [opened, setOpened] = useState(0);
  useEffect(() => {
    const offState = daemon.on('state', setState);
    // A new connection (the daemon restarted, the page slept) shows the App afresh.
    const offOpen = daemon.on('open', () => setOpened((n) => n + 1));
    // The connection may have opened before this effect ran (a slow page): take it as it is now.
    setState(daemon.state);
    if (daemon.state === 'open') setOpened((n) => Math.max(n, 1));
    return () => (offState(), offOpen());
  }, []);
  return html`<header>
      <a class="brand" href="/ui/"><img src="/ui/icon.svg" alt="" width="22" height="22" /> mcpd</a>
      <div class="connection"><span class=${`dot conn-${state}`} data-testid="connection" data-state=${state}>${state === 'open' ? 'App view' : STATES[state]}</span></div>
    </header>
    <main class="app-page">${state === 'open' || opened > 0 ? html`<${AppById} key=${opened} daemon=${daemon} id=${id} />` : ''}</main>`;
}

daemon.connect();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${Page} />`, root);
