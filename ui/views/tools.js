// Tools: search the catalogue, read a tool, call it from a form made from its input schema.
import { html, useRef, useState } from '../html.js';
import { Collapsible, ErrorBox, Json, SchemaFields, ToolResult, argumentsFrom, useRouteState, useSchemaValues } from '../components.js';
import { href, plural, pretty } from '../format.js';
import { changed, daemon, useStore } from '../store.js';
import { AppById } from '../apps.js';

// What a server asks while a call from this page runs (MCP elicitation, or sampling by Claude
// under chat.sampling "ask"): shown in the running call's form, answered there.
const questions = { current: null };
function ask(kind) {
  return (params) =>
    new Promise((resolve) => {
      questions.current = { kind, params, answer: (value) => ((questions.current = null), changed(), resolve(value)) };
      changed();
    });
}
daemon.handle('call.elicit', ask('elicit'));
daemon.handle('call.sample', ask('sample'));

function Question({ question }) {
  const { kind, params, answer } = question;
  const [values, setValues] = useSchemaValues(params.requestedSchema, JSON.stringify(params));
  const [error, setError] = useState(null);
  if (kind === 'sample') {
    return html`<div class="request" data-testid="call-question">
      <div><b>${params.server}</b> (tool <code>${params.tool}</code>) asks Claude, up to ${params.maxTokens} tokens:</div>
      <pre class="content-text">${params.preview}</pre>
      <div class="actions"><button type="button" class="primary" onClick=${() => answer({ decision: 'yes' })}>Yes</button><button type="button" onClick=${() => answer({ decision: 'no' })}>No</button></div>
    </div>`;
  }
  const accept = () => {
    try {
      answer({ action: 'accept', content: argumentsFrom(params.requestedSchema, values) });
    } catch (e) {
      setError({ message: e.message });
    }
  };
  return html`<div class="request" data-testid="call-question">
    <div>The server asks: ${params.message}</div>
    <${SchemaFields} schema=${params.requestedSchema} values=${values} onChange=${setValues} idPrefix="question" />
    <div class="actions"><button type="button" class="primary" onClick=${accept}>Send</button><button type="button" onClick=${() => answer({ action: 'decline' })}>Decline</button><button type="button" onClick=${() => answer({ action: 'cancel' })}>Cancel</button></div>
    <${ErrorBox} error=${error} />
  </div>`;
}

function matches(tool, query) {
  if (!query) return true;
  const q = query.toLowerCase();
  return (
    tool.name.toLowerCase().includes(q) ||
    (tool.title ?? '').toLowerCase().includes(q) ||
    (tool.description ?? '').toLowerCase().includes(q)
  );
}

function Annotations({ annotations }) {
  if (!annotations) return null;
  const hints = Object.entries(annotations).filter(([key]) => key !== 'title');
  if (hints.length === 0) return null;
  return html`<div class="chips">${hints.map(([key, value]) => html`<span class=${`chip ${value === true ? 'on' : ''}`}>${key.replace(/Hint$/, '')}${value === true ? '' : `: ${JSON.stringify(value)}`}</span>`)}</div>`;
}

const appOnly = (tool) => JSON.stringify(tool._meta?.ui?.visibility) === '["app"]';
const hasApp = (tool) => typeof (tool._meta?.ui?.resourceUri ?? tool._meta?.['ui/resourceUri']) === 'string';

function CallForm({ tool }) {
  const [values, setValues] = useSchemaValues(tool.inputSchema, tool.name);
  const [raw, setRaw] = useState(null);
  const [running, setRunning] = useState(null);
  const [outcome, setOutcome] = useState(null);
  const controller = useRef(null);

  const call = async (event) => {
    event.preventDefault();
    let args;
    try {
      args = raw !== null ? JSON.parse(raw || '{}') : argumentsFrom(tool.inputSchema, values);
    } catch (error) {
      setOutcome({ error: { message: raw !== null ? `The arguments are not JSON: ${error.message}` : error.message } });
      return;
    }
    controller.current = new AbortController();
    const started = performance.now();
    setRunning({ progress: null });
    setOutcome(null);
    try {
      const result = await daemon.request(
        'tools.call',
        { name: tool.name, arguments: args, canElicit: true, canSample: true, showsApps: true },
        {
          signal: controller.current.signal,
          timeoutMs: 0,
          onProgress: (p) => setRunning({ progress: p }),
        },
      );
      setOutcome({ result, durationMs: Math.round(performance.now() - started) });
    } catch (error) {
      setOutcome({ error, durationMs: Math.round(performance.now() - started) });
    } finally {
      // A question the daemon took back with the call (cancelled, timed out) goes too.
      questions.current?.answer({ action: 'cancel' });
      setRunning(null);
      controller.current = null;
    }
  };

  const toggleRaw = () => {
    if (raw !== null) return setRaw(null);
    let current = {};
    try {
      current = argumentsFrom(tool.inputSchema, values);
    } catch {
      // half-filled: start from what parses
    }
    setRaw(pretty(current));
  };

  const p = running?.progress;
  return html`<form class="call-form" onSubmit=${call} data-testid="call-form">
    <h4>Call it <button type="button" class="link" onClick=${toggleRaw}>${raw !== null ? 'use the form' : 'edit as JSON'}</button></h4>
    ${
      raw !== null
        ? html`<textarea name="arguments-json" rows="8" value=${raw} onInput=${(e) => setRaw(e.target.value)} />`
        : html`<${SchemaFields} schema=${tool.inputSchema} values=${values} onChange=${setValues} idPrefix=${`arg-${tool.name}`} />`
    }
    <div class="actions">
      <button type="submit" class="primary" disabled=${!!running}>${running ? 'Running…' : 'Call'}</button>
      ${running ? html`<button type="button" onClick=${() => controller.current?.abort()}>Cancel</button>` : ''}
    </div>
    ${running ? html`<div class="progress" data-testid="progress">${p ? html`<progress value=${p.progress} max=${p.total ?? undefined}></progress> ${p.progress}${p.total ? ` / ${p.total}` : ''} ${p.message ?? ''}` : html`<progress></progress> waiting for the server…`}</div>` : ''}
    ${running && questions.current ? html`<${Question} question=${questions.current} />` : ''}
    ${outcome?.error ? html`<${ErrorBox} error=${outcome.error} />${outcome.durationMs != null ? html`<div class="muted">after ${outcome.durationMs} ms</div>` : ''}` : ''}
    ${outcome?.result ? html`<${ToolResult} result=${outcome.result} durationMs=${outcome.durationMs} />` : ''}
    ${outcome?.result?.app ? html`<div class="app-link muted">Its App, at its own link: <a href=${outcome.result.app.url} target="_blank" rel="noopener">${outcome.result.app.url}</a></div><${AppById} key=${outcome.result.app.view} daemon=${daemon} id=${outcome.result.app.view} />` : ''}
  </form>`;
}

function ToolDetail({ tool }) {
  return html`<div class="detail" data-testid="tool-detail">
    <h3>${tool.title ?? tool.name}</h3>
    <div class="muted"><code>${tool.name}</code> · server <a href=${href('servers', tool.server)}>${tool.server}</a> (its name: <code>${tool.originalName}</code>)${appOnly(tool) ? html` · <span class="chip" title="Only its server's App may call it; no model sees it">for its App only</span>` : hasApp(tool) ? html` · <span class="chip on">has an App</span>` : ''}</div>
    <${Annotations} annotations=${tool.annotations} />
    ${tool.description ? html`<p class="description">${tool.description}</p>` : ''}
    <${Collapsible} title="Input schema"><${Json} value=${tool.inputSchema} /><//>
    ${tool.outputSchema ? html`<${Collapsible} title="Output schema"><${Json} value=${tool.outputSchema} /><//>` : ''}
    <${CallForm} key=${tool.name} tool=${tool} />
  </div>`;
}

/** Groups open by themselves while there are few, or while a search or a server narrows the list. */
const FEW_GROUPS = 8;

function ToolGroup({ server, tools, selected, open, onToggle }) {
  return html`<li class="group" data-group=${server}>
    <button type="button" class="group-head" aria-expanded=${open ? 'true' : 'false'} onClick=${onToggle}>
      <span class="caret">${open ? '▾' : '▸'}</span> <b>${server}</b> <span class="count">${tools.length}</span>
    </button>
    ${
      open
        ? html`<ul>
            ${tools.map(
              (t) =>
                html`<li key=${t.name} class=${t.name === selected ? 'selected' : ''}><a href=${href('tools', t.name)} title=${t.name}><code>${t.originalName ?? t.name}</code></a>${t.description ? html`<div class="muted clamp">${t.description}</div>` : ''}</li>`,
            )}
          </ul>`
        : ''
    }
  </li>`;
}

export function ToolsView({ selected, query: initialQuery, server: initialServer }) {
  const { tools } = useStore();
  const [query, setQuery] = useRouteState(initialQuery);
  const [server, setServer] = useRouteState(initialServer);
  // What the person opened or closed by hand, over the default.
  const [toggled, setToggled] = useState({});
  const servers = [...new Set(tools.map((t) => t.server))].sort();
  const shown = tools.filter((t) => (!server || t.server === server) && matches(t, query));
  const groups = new Map();
  for (const t of shown) groups.set(t.server, [...(groups.get(t.server) ?? []), t]);
  const names = [...groups.keys()].sort();
  const narrowed = Boolean(query) || Boolean(server) || names.length <= FEW_GROUPS;
  const tool = tools.find((t) => t.name === selected);
  const isOpen = (name) => toggled[name] ?? (narrowed || tool?.server === name);
  return html`<section class="split">
    <div class="list">
      <div class="filters">
        <input type="search" placeholder=${`Search ${tools.length} tools…`} value=${query} onInput=${(e) => setQuery(e.target.value)} aria-label="Search tools" />
        <select aria-label="Server" value=${server} onChange=${(e) => setServer(e.target.value)}>
          <option value="">All ${servers.length} servers</option>
          ${servers.map((name) => html`<option value=${name}>${name}</option>`)}
        </select>
      </div>
      <div class="muted list-count" data-testid="tool-count">${shown.length === tools.length ? plural(tools.length, 'tool') : `${shown.length} of ${tools.length} tools`}, ${plural(names.length, 'server')}</div>
      <ul class="groups" data-testid="tool-list">
        ${names.map(
          (name) =>
            html`<${ToolGroup}
              key=${name}
              server=${name}
              tools=${groups.get(name)}
              selected=${selected}
              open=${isOpen(name)}
              onToggle=${() => setToggled({ ...toggled, [name]: !isOpen(name) })}
            />`,
        )}
      </ul>
      ${shown.length === 0 ? html`<p class="muted">No tool matches.</p>` : ''}
    </div>
    <div class="pane">${tool ? html`<${ToolDetail} tool=${tool} />` : selected ? html`<p class="muted">No tool named <code>${selected}</code> in the catalogue now.</p>` : html`<p class="muted">Choose a tool.</p>`}</div>
  </section>`;
}
