// Resources and prompts: browse, read a resource, get a prompt with its arguments.
import { html, useEffect, useState } from '../html.js';
import { ContentBlock, ErrorBox, ResourceContents } from '../components.js';
import { href } from '../format.js';
import { daemon, useStore } from '../store.js';

export function ResourcesView({ uri }) {
  const { resources } = useStore();
  const [filter, setFilter] = useState('');
  const [read, setRead] = useState(null);
  useEffect(() => {
    if (!uri) return setRead(null);
    setRead({ loading: true });
    daemon.request('resources.read', { uri }).then(
      (result) => setRead({ result }),
      (error) => setRead({ error }),
    );
  }, [uri]);
  const shown = resources.filter((r) => !filter || `${r.uri} ${r.name} ${r.server}`.toLowerCase().includes(filter.toLowerCase()));
  return html`<section class="split">
    <div class="list">
      <input type="search" placeholder=${`Filter ${resources.length} resources…`} value=${filter} onInput=${(e) => setFilter(e.target.value)} aria-label="Filter resources" />
      <ul data-testid="resource-list">
        ${shown.map((r) => html`<li key=${`${r.server} ${r.uri}`} class=${r.uri === uri ? 'selected' : ''}><a href=${`#/resources?uri=${encodeURIComponent(r.uri)}`}>${r.title ?? r.name}</a><div class="muted"><code>${r.uri}</code> · ${r.server}${r.mimeType ? ` · ${r.mimeType}` : ''}</div></li>`)}
      </ul>
      ${resources.length === 0 ? html`<p class="muted">No server lists resources.</p>` : ''}
    </div>
    <div class="pane" data-testid="resource-read">
      ${!uri ? html`<p class="muted">Choose a resource to read it.</p>` : ''}
      ${uri ? html`<h3><code>${uri}</code></h3>` : ''}
      ${read?.loading ? html`<p class="muted">Reading…</p>` : ''}
      <${ErrorBox} error=${read?.error} />
      ${read?.result ? html`<${ResourceContents} contents=${read.result.contents} />` : ''}
    </div>
  </section>`;
}

function PromptGet({ prompt }) {
  const [values, setValues] = useState({});
  const [outcome, setOutcome] = useState(null);
  const get = async (event) => {
    event.preventDefault();
    const args = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
    const missing = (prompt.arguments ?? []).find((a) => a.required && !args[a.name]);
    if (missing) return setOutcome({ error: { message: `${missing.name} is required` } });
    setOutcome({ loading: true });
    try {
      setOutcome({ result: await daemon.request('prompts.get', { name: prompt.name, arguments: args }) });
    } catch (error) {
      setOutcome({ error });
    }
  };
  return html`<form onSubmit=${get}>
    ${(prompt.arguments ?? []).map(
      (a) => html`<div class="field">
      <label for=${`p-${a.name}`}>${a.name}${a.required ? html`<span class="required">*</span>` : ''}</label>
      <input id=${`p-${a.name}`} value=${values[a.name] ?? ''} onInput=${(e) => setValues({ ...values, [a.name]: e.target.value })} />
      ${a.description ? html`<div class="hint">${a.description}</div>` : ''}
    </div>`,
    )}
    <div class="actions"><button type="submit" class="primary">Get</button></div>
    ${outcome?.loading ? html`<p class="muted">Getting…</p>` : ''}
    <${ErrorBox} error=${outcome?.error} />
    ${
      outcome?.result
        ? html`<div class="messages" data-testid="prompt-messages">
      ${outcome.result.description ? html`<p class="muted">${outcome.result.description}</p>` : ''}
      ${outcome.result.messages.map((m) => html`<div class=${`message ${m.role}`}><div class="role">${m.role}</div><${ContentBlock} block=${m.content} /></div>`)}
    </div>`
        : ''
    }
  </form>`;
}

export function PromptsView({ selected }) {
  const { prompts } = useStore();
  const prompt = prompts.find((p) => p.name === selected);
  return html`<section class="split">
    <div class="list">
      <ul data-testid="prompt-list">
        ${prompts.map((p) => html`<li key=${p.name} class=${p.name === selected ? 'selected' : ''}><a href=${href('prompts', p.name)}><code>${p.name}</code></a>${p.description ? html`<div class="muted clamp">${p.description}</div>` : ''}</li>`)}
      </ul>
      ${prompts.length === 0 ? html`<p class="muted">No server lists prompts.</p>` : ''}
    </div>
    <div class="pane">${prompt ? html`<div class="detail"><h3>${prompt.title ?? prompt.name}</h3><div class="muted">server <a href=${href('servers', prompt.server)}>${prompt.server}</a></div>${prompt.description ? html`<p>${prompt.description}</p>` : ''}<${PromptGet} key=${prompt.name} prompt=${prompt} /></div>` : html`<p class="muted">Choose a prompt.</p>`}</div>
  </section>`;
}
