// Clients and plugins: where the daemon listens, the MCP clients connected through the bridge
// or the gateway, and the plugins with their hooks and failures.
import { html } from '../html.js';
import { since } from '../format.js';
import { useStore } from '../store.js';

export function ClientsView() {
  const { status } = useStore();
  if (!status) return html`<p class="muted">Loading…</p>`;
  return html`<section>
    <h3>Where the daemon listens</h3>
    <table><thead><tr><th>Front</th><th>Address</th><th>Connections</th></tr></thead>
      <tbody>${status.fronts.filter((f) => f.address).map((f) => html`<tr><td>${f.name}</td><td><code>${f.address}</code></td><td class="num">${f.sessions}</td></tr>`)}</tbody>
    </table>
    <h3>MCP clients</h3>
    ${
      status.clients.length === 0
        ? html`<p class="muted">No MCP client is connected. Hosts reach mcpd through <code>mcpd bridge</code> (see <code>mcpd connect</code>) or the HTTP gateway.</p>`
        : html`<table data-testid="clients"><thead><tr><th>Client</th><th>Version</th><th>Endpoint</th><th>Via</th><th>Connected</th></tr></thead>
          <tbody>${status.clients.map((c) => html`<tr><td>${c.name}</td><td>${c.version || '-'}</td><td><code>${c.endpoint}</code></td><td>${c.front === 'mcp-http' ? 'http' : 'bridge'}</td><td>${since(c.since)} ago</td></tr>`)}</tbody></table>`
    }
    <h3>Plugins</h3>
    ${
      status.plugins.length === 0
        ? html`<p class="muted">No plugins loaded.</p>`
        : html`<table data-testid="plugins"><thead><tr><th>Plugin</th><th>State</th><th>Hooks</th><th>Failures</th><th>Last failure</th></tr></thead>
          <tbody>${status.plugins.map((p) => html`<tr><td>${p.name}<div class="muted"><code>${p.specifier}</code></div></td><td><span class=${`badge plugin-${p.state}`}>${p.state}</span>${p.error ? html`<div class="error-text">${p.error}</div>` : ''}</td><td>${p.hooks.join(', ') || '-'}</td><td class="num">${p.failures}</td><td>${p.lastError ? html`<code>${p.lastError.hook}</code> ${p.lastError.message} <span class="muted">${since(p.lastError.time)} ago</span>` : '-'}</td></tr>`)}</tbody></table>`
    }
  </section>`;
}
