// Servers: every server's state (live), its numbers and last error, actions, and its config.
import { html, useEffect, useState } from '../html.js';
import { Collapsible, ErrorBox, Json, StateBadge } from '../components.js';
import { bytes, duration, href, plural, since, time } from '../format.js';
import { daemon, notify, useStore } from '../store.js';
import { ConfigActions, ServerForm } from './server-form.js';

/** After an edit from the page: say what was done (and what waits for a restart). */
function edited(result) {
  if (!result) return;
  const restart = result.reload?.needsRestart?.length ? ` (${result.reload.needsRestart.join(', ')}: after a daemon restart)` : '';
  notify(`${result.said}${restart}`, 'ok');
}

function Actions({ server }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const act = async (action) => {
    setBusy(action);
    setError(null);
    try {
      await daemon.request(`servers.${action}`, { name: server.name }, { timeoutMs: 0 });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  // An idle server can be started (it wakes anyway on first use) and stopped (then it no longer wakes).
  const down = ['stopped', 'failed', 'disabled', 'needs-auth', 'idle'].includes(server.state);
  return html`<div class="actions">
    <button onClick=${() => act('start')} disabled=${busy || !down || server.state === 'disposed'}>${busy === 'start' ? 'Starting…' : 'Start'}</button>
    <button onClick=${() => act('stop')} disabled=${busy || (down && server.state !== 'idle')}>${busy === 'stop' ? 'Stopping…' : 'Stop'}</button>
    <button onClick=${() => act('restart')} disabled=${busy || server.state === 'disposed'}>${busy === 'restart' ? 'Restarting…' : 'Restart'}</button>
    <${ErrorBox} error=${error} />
  </div>`;
}

/** A server whose catalogue is shown: running, or idle (what it listed when it last ran). */
const listed = (s) => s.state === 'running' || s.state === 'idle';

/** What idle means: `wakes on first use, last ran 4m 2s ago`. */
function idleNote(s) {
  return `wakes on first use${s.lastRanAt ? `, last ran ${since(s.lastRanAt)} ago` : ''}`;
}

function ServerDetail({ server }) {
  const [editing, setEditing] = useState(false);
  const [config, setConfig] = useState(null);
  const [stderr, setStderr] = useState([]);
  const { logs } = useStore();
  useEffect(() => {
    daemon.request('servers.config', { name: server.name }).then(
      (r) => setConfig(r.config),
      (e) => setConfig({ error: e.message }),
    );
    daemon.request('logs.read', { server: server.name, lines: 500 }).then(
      (r) => setStderr(r.entries.filter((e) => e.stream === 'stderr').slice(-20)),
      () => undefined,
    );
  }, [server.name, server.state, editing]);
  // Lines that arrived since are taken from the live log.
  const tail = [
    ...stderr,
    ...logs.filter((e) => e.source === server.name && e.stream === 'stderr' && e.seq > (stderr.at(-1)?.seq ?? Infinity)),
  ].slice(-20);
  return html`<div class="detail" data-testid="server-detail">
    <h3>${server.name} ${server.serverInfo ? html`<span class="muted">${server.serverInfo.name} ${server.serverInfo.version}</span>` : ''}</h3>
    ${server.ephemeral ? html`<p class="muted" data-testid="ephemeral">Brought by a chat from <code>${server.ephemeral.script}</code>: not in the config, and stopped when that chat ends.</p>` : ''}
    ${server.ephemeral ? '' : html`<${ConfigActions} server=${server} onEdit=${() => setEditing(true)} onDone=${edited} />`}
    ${
      editing
        ? html`<${ServerForm}
            name=${server.name}
            onDone=${(result) => {
              edited(result);
              setEditing(false);
            }}
          />`
        : ''
    }
    ${server.lastError ? html`<h4>Last error</h4><${ErrorBox} error=${server.lastError} />` : ''}
    <h4>stderr, last lines</h4>
    ${tail.length === 0 ? html`<p class="muted">Nothing on stderr.</p>` : html`<pre class="log-tail">${tail.map((e) => `${time(e.time)}  ${e.text}\n`)}</pre>`}
    <p><a href=${`#/logs?source=${encodeURIComponent(server.name)}`}>All of its logs →</a> · <a href=${`#/tools?server=${encodeURIComponent(server.name)}`}>Its tools →</a></p>
    <${Collapsible} title="Config (secrets masked)" open=${true}>${config ? html`<${Json} value=${config} />` : html`<p class="muted">Loading…</p>`}<//>
  </div>`;
}

export function ServersView({ selected }) {
  const { status } = useStore();
  const [adding, setAdding] = useState(false);
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), 1_000);
    return () => clearInterval(timer);
  }, []);
  if (!status) return html`<p class="muted">Loading…</p>`;
  const chosen = status.servers.find((s) => s.name === selected);
  const counts = {};
  for (const s of status.servers) counts[s.state] = (counts[s.state] ?? 0) + 1;
  return html`<section>
    <div class="summary">
      <span>mcpd ${status.version}, pid ${status.pid}, up ${duration(status.uptimeMs)}</span>
      <span>${plural(status.servers.length, 'server')}: ${
        Object.entries(counts)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ') || 'none'
      }</span>
      <span>${plural(status.toolCount, 'tool')}</span>
      <span>memory ${bytes(status.memory.rss)}</span>
      <span title=${status.configFile ?? ''}>config <code>${status.configFile ?? '(none)'}</code></span>
    </div>
    ${status.configError ? html`<${ErrorBox} error=${{ message: `The config on disk failed to load (${status.configError.time}); the running config stays.\n${status.configError.message}` }} />` : ''}
    <div class="actions"><button type="button" class="primary" onClick=${() => setAdding(!adding)} aria-expanded=${adding ? 'true' : 'false'}>Add a server</button></div>
    ${
      adding
        ? html`<${ServerForm}
            onDone=${(result, name) => {
              edited(result);
              setAdding(false);
              if (result) location.hash = href('servers', name);
            }}
          />`
        : ''
    }
    ${status.servers.length === 0 ? html`<p class="muted">No servers configured. Add one here or with <code>mcpd server add</code>.</p>` : ''}
    <table class="servers" data-testid="servers">
      <thead><tr><th>Server</th><th>State</th><th class="wide">Via</th><th class="wide">PID</th><th class="wide">Uptime</th><th>Restarts</th><th>Tools</th><th class="wide">Resources</th><th class="wide">Prompts</th><th>Last error</th><th></th></tr></thead>
      <tbody>
        ${status.servers.map(
          (s) => html`<tr key=${s.name} data-server=${s.name} class=${s.name === selected ? 'selected' : ''}>
          <td><a href=${href('servers', s.name)}>${s.name}</a>${s.ephemeral ? html` <span class="badge chat" title=${`${s.ephemeral.script}: brought by a chat (mcpd chat), stops when that chat ends`}>chat</span>` : ''}</td>
          <td><${StateBadge} state=${s.state} />${s.state === 'backoff' && s.nextRetryMs != null ? html` <span class="muted">retry in ${duration(s.nextRetryMs)}</span>` : ''}${s.state === 'idle' ? html` <span class="muted" data-col="idle">${idleNote(s)}</span>` : ''}</td>
          <td class="wide" data-col="via" title="the transport, and the MCP revision spoken to it">${s.transport}${s.protocolVersion ? html` <span class="muted">${s.protocolVersion}</span>` : ''}</td>
          <td class="num wide" data-col="pid">${s.pid ?? '-'}</td>
          <td class="num wide">${since(s.runningSince)}</td>
          <td class="num" data-col="restarts">${s.restarts}</td>
          <td class="num">${listed(s) ? s.toolCount : '-'}</td>
          <td class="num wide">${listed(s) ? s.resourceCount : '-'}</td>
          <td class="num wide">${listed(s) ? s.promptCount : '-'}</td>
          <td class="last-error">${s.lastError ? s.lastError.message.split('\n')[0] : ''}</td>
          <td><${Actions} server=${s} /></td>
        </tr>`,
        )}
      </tbody>
    </table>
    ${chosen ? html`<${ServerDetail} server=${chosen} />` : status.servers.length > 0 ? html`<p class="muted">Choose a server for its config, last error and stderr.</p>` : ''}
  </section>`;
}
