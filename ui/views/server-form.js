// Adding or changing a server of the config file from the page: the same edits as
// `mcpd server add|remove|enable|disable` (the daemon writes the file, comments kept, and reloads).
import { html, useEffect, useState } from '../html.js';
import { ErrorBox } from '../components.js';
import { href } from '../format.js';
import { daemon, useStore } from '../store.js';

const MASK = '••••••';

function lines(text) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

/** `KEY=VALUE` (env) or `Name: value` (headers) lines → an object; throws naming the bad line. */
function pairs(text, separator, what) {
  const out = {};
  for (const line of lines(text)) {
    const at = line.indexOf(separator);
    const key = at === -1 ? '' : line.slice(0, at).trim();
    if (!key) throw new Error(`${what}: "${line}" is not ${separator === '=' ? 'KEY=VALUE' : 'Name: value'}`);
    out[key] = line.slice(at + 1).trim();
  }
  return out;
}

function unpairs(object, separator) {
  return Object.entries(object ?? {})
    .map(([key, value]) => `${key}${separator}${separator === ':' ? ' ' : ''}${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('\n');
}

/** The form's fields from a config entry (as the file has it, secrets masked). */
function fieldsOf(entry) {
  const remote = typeof entry?.url === 'string';
  return {
    kind: remote ? 'remote' : 'local',
    command: entry?.command ?? '',
    args: (entry?.args ?? []).join('\n'),
    cwd: entry?.cwd ?? '',
    env: unpairs(entry?.env, '='),
    url: entry?.url ?? '',
    transport: entry?.type ?? '',
    headers: unpairs(entry?.headers, ':'),
  };
}

/** The fields → the entry to write; on an update, emptied fields are sent as null (removed). */
function entryOf(fields, update) {
  const unset = update ? null : undefined;
  const keep = (value) => (value === '' || (Array.isArray(value) && value.length === 0) ? unset : value);
  const entry =
    fields.kind === 'remote'
      ? {
          url: fields.url.trim(),
          type: keep(fields.transport),
          headers: keep(Object.keys(pairs(fields.headers, ':', 'Headers')).length ? pairs(fields.headers, ':', 'Headers') : ''),
        }
      : {
          command: fields.command.trim(),
          args: keep(lines(fields.args)),
          cwd: keep(fields.cwd.trim()),
          env: keep(Object.keys(pairs(fields.env, '=', 'Environment')).length ? pairs(fields.env, '=', 'Environment') : ''),
        };
  if (fields.kind === 'remote' && !entry.url) throw new Error('URL is required');
  if (fields.kind === 'local' && !entry.command) throw new Error('Command is required');
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== undefined));
}

function Field({ id, label, hint, children }) {
  return html`<div class="field"><label for=${id}>${label}</label>${children}${hint ? html`<div class="hint">${hint}</div>` : ''}</div>`;
}

/** name undefined: a new server; else that server's entry, loaded from the file. */
export function ServerForm({ name, onDone }) {
  const update = name !== undefined;
  const { status } = useStore();
  const [loaded, setLoaded] = useState(update ? null : { file: null, entry: {} });
  const [fields, setFields] = useState(fieldsOf({}));
  const [newName, setNewName] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!update) return;
    daemon.request('config.server', { name }).then(
      (r) => {
        setLoaded(r);
        setFields(fieldsOf(r.entry));
      },
      (e) => setError(e),
    );
  }, [name]);

  const set = (key) => (event) => setFields({ ...fields, [key]: event.target.value });
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    let entry;
    try {
      if (!update && !newName.trim()) throw new Error('Name is required');
      entry = entryOf(fields, update);
    } catch (e) {
      setError({ message: e.message });
      return;
    }
    setBusy(true);
    try {
      const server = update ? name : newName.trim();
      const result = await daemon.request('config.edit', { action: update ? 'update' : 'add', name: server, entry }, { timeoutMs: 0 });
      onDone(result, server);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (update && !loaded)
    return html`<div class="detail">${error ? html`<${ErrorBox} error=${error} />` : html`<p class="muted">Loading…</p>`}</div>`;
  const id = (key) => `server-${update ? 'edit' : 'add'}-${key}`;
  return html`<form class="detail server-form" data-testid="server-form" onSubmit=${submit}>
    <h3>${update ? `Change ${name}` : 'Add a server'}</h3>
    <p class="muted">Written to ${loaded?.file || status?.configFile ? html`<code>${loaded?.file ?? status.configFile}</code>` : 'your config file'} (comments kept), then applied; a server that does not start is not kept.</p>
    ${update ? '' : html`<${Field} id=${id('name')} label="Name" hint="Its tools are named NAME__tool."><input id=${id('name')} value=${newName} onInput=${(e) => setNewName(e.target.value)} /><//>`}
    <div class="field" role="radiogroup" aria-label="Kind">
      <label><input type="radio" name="kind" value="local" checked=${fields.kind === 'local'} onChange=${set('kind')} /> a command (local)</label>
      <label><input type="radio" name="kind" value="remote" checked=${fields.kind === 'remote'} onChange=${set('kind')} /> a URL (remote)</label>
    </div>
    ${
      fields.kind === 'local'
        ? html`
            <${Field} id=${id('command')} label="Command" hint="Relative paths are the config folder's."><input id=${id('command')} value=${fields.command} onInput=${set('command')} /><//>
            <${Field} id=${id('args')} label="Arguments" hint="One per line."><textarea id=${id('args')} rows="3" value=${fields.args} onInput=${set('args')} /><//>
            <${Field} id=${id('cwd')} label="Folder" hint="Where it runs (default: the config's folder)."><input id=${id('cwd')} value=${fields.cwd} onInput=${set('cwd')} /><//>
            <${Field} id=${id('env')} label="Environment" hint=${`KEY=VALUE, one per line; ${MASK} keeps the value the file has; \${VAR} takes the daemon's.`}><textarea id=${id('env')} rows="3" value=${fields.env} onInput=${set('env')} /><//>
          `
        : html`
            <${Field} id=${id('url')} label="URL"><input id=${id('url')} value=${fields.url} onInput=${set('url')} /><//>
            <${Field} id=${id('transport')} label="Transport"
              ><select id=${id('transport')} value=${fields.transport} onChange=${set('transport')}>
                <option value="">Streamable HTTP, else SSE</option>
                <option value="http">Streamable HTTP</option>
                <option value="sse">SSE (legacy)</option>
              </select><//
            >
            <${Field} id=${id('headers')} label="Headers" hint=${`Name: value, one per line; ${MASK} keeps the value the file has.`}><textarea id=${id('headers')} rows="3" value=${fields.headers} onInput=${set('headers')} /><//>
          `
    }
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? (update ? 'Saving…' : 'Adding…') : update ? 'Save' : 'Add'}</button>
      <button type="button" onClick=${() => onDone(null)} disabled=${busy}>Cancel</button>
    </div>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** Enable, disable or remove a configured server (not one a chat brought). */
export function ConfigActions({ server, onEdit, onDone }) {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const edit = async (action) => {
    setBusy(action);
    setError(null);
    try {
      const result = await daemon.request('config.edit', { action, name: server.name }, { timeoutMs: 0 });
      onDone(result);
      if (action === 'remove') location.hash = href('servers');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
      setConfirming(false);
    }
  };
  const disabled = server.state === 'disabled';
  return html`<div class="actions config-actions">
    <button type="button" onClick=${onEdit} disabled=${busy}>Edit</button>
    <button type="button" onClick=${() => edit(disabled ? 'enable' : 'disable')} disabled=${busy}>${busy === 'enable' ? 'Enabling…' : busy === 'disable' ? 'Disabling…' : disabled ? 'Enable' : 'Disable'}</button>
    ${
      confirming
        ? html`<span>Remove <b>${server.name}</b> from the config? <button type="button" class="danger" onClick=${() => edit('remove')} disabled=${busy}>${busy === 'remove' ? 'Removing…' : 'Remove it'}</button> <button type="button" onClick=${() => setConfirming(false)}>Keep it</button></span>`
        : html`<button type="button" onClick=${() => setConfirming(true)} disabled=${busy}>Remove…</button>`
    }
    <${ErrorBox} error=${error} />
  </div>`;
}
