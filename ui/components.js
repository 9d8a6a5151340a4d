// Pieces the views share: state badges, errors, a tool result, a form made from a JSON schema.
import { html, useState } from './html.js';
import { pretty } from './format.js';

export function StateBadge({ state }) {
  return html`<span class=${`badge state-${state}`} data-state=${state}>${state}</span>`;
}

/** The line an error box opens with: its first line, cut at a sentence when very long. */
const HEADLINE_CHARS = 160;
export function headline(message) {
  const text = String(message ?? '');
  const newline = text.indexOf('\n');
  let first = newline === -1 ? text : text.slice(0, newline);
  if (first.length > HEADLINE_CHARS) {
    const stop = first.slice(0, HEADLINE_CHARS).search(/[.:;](\s|$)[^.:;]*$/);
    first = stop > 40 ? first.slice(0, stop + 1) : `${first.slice(0, HEADLINE_CHARS - 1)}…`;
  }
  return { first, more: first.length < text.length };
}

/** An error: its code and first line; the rest (stderr, problems, details) on demand. */
export function ErrorBox({ error }) {
  if (!error) return null;
  const message = String(error.message ?? error);
  const { first, more } = headline(message);
  const details = error.details ?? error.data?.details;
  const shown = details && Object.keys(details).length > 0 ? details : null;
  return html`<div class="error" role="alert">
    <div class="error-head">${error.code ? html`<code>${error.code}</code> ` : ''}${first}</div>
    ${more || shown ? html`<details class="error-details"><summary>Details</summary>${more ? html`<pre class="error-message">${message}</pre>` : ''}${shown ? html`<${Json} value=${shown} />` : ''}</details>` : ''}
  </div>`;
}

export function Json({ value }) {
  return html`<pre class="json">${pretty(value)}</pre>`;
}

export function Collapsible({ title, open = false, children }) {
  return html`<details open=${open}><summary>${title}</summary>${children}</details>`;
}

function dataUrl(mimeType, data) {
  return `data:${mimeType};base64,${data}`;
}

/** One MCP content block: text, image, audio, a resource link, or an embedded resource. */
export function ContentBlock({ block }) {
  switch (block.type) {
    case 'text':
      return html`<pre class="content-text">${block.text}</pre>`;
    case 'image':
      return html`<img class="content-image" alt="image result" src=${dataUrl(block.mimeType, block.data)} />`;
    case 'audio':
      return html`<audio class="content-audio" controls src=${dataUrl(block.mimeType, block.data)}></audio>`;
    case 'resource_link':
      return html`<div class="content-link">🔗 <a href=${`#/resources?uri=${encodeURIComponent(block.uri)}`}>${block.name ?? block.uri}</a> <code>${block.uri}</code>${block.mimeType ? html` <span class="muted">${block.mimeType}</span>` : ''}${block.description ? html`<div class="muted">${block.description}</div>` : ''}</div>`;
    case 'resource':
      return html`<div class="content-resource"><div class="muted">resource <code>${block.resource.uri}</code> ${block.resource.mimeType ?? ''}</div><${ResourceContents} contents=${[block.resource]} /></div>`;
    default:
      return html`<${Json} value=${block} />`;
  }
}

/** The contents of a resources/read (text, or a blob shown as what its type says). */
export function ResourceContents({ contents }) {
  return contents.map((c) => {
    if (typeof c.text === 'string') return html`<pre class="content-text">${c.text}</pre>`;
    if (typeof c.blob === 'string') {
      const type = c.mimeType ?? 'application/octet-stream';
      if (type.startsWith('image/')) return html`<img class="content-image" alt=${c.uri} src=${dataUrl(type, c.blob)} />`;
      if (type.startsWith('audio/')) return html`<audio controls src=${dataUrl(type, c.blob)}></audio>`;
      return html`<div class="muted">${type}, ${Math.round((c.blob.length * 3) / 4)} bytes (binary)</div>`;
    }
    return html`<${Json} value=${c} />`;
  });
}

/** A CallToolResult: its content blocks, its structured content, and whether it is an error. */
export function ToolResult({ result, durationMs }) {
  return html`<div class=${`result ${result.isError ? 'result-error' : 'result-ok'}`} data-testid="tool-result">
    <div class="result-head">${result.isError ? 'Tool error' : 'Result'}${durationMs != null ? html` <span class="muted">in ${durationMs} ms</span>` : ''}</div>
    ${(result.content ?? []).map((block) => html`<${ContentBlock} block=${block} />`)}
    ${result.structuredContent ? html`<${Collapsible} title="structuredContent" open=${true}><${Json} value=${result.structuredContent} /><//>` : ''}
  </div>`;
}

// --- A form from a JSON schema ---------------------------------------------------------------

function kindOf(schema) {
  if (!schema || typeof schema !== 'object') return 'json';
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === 'string')) return 'enum';
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'string') return 'string';
  if (type === 'number' || type === 'integer') return type;
  if (type === 'boolean') return 'boolean';
  if (type === 'array' && schema.items && ['string', 'number', 'integer'].includes(schema.items.type) && !schema.items.enum) return 'list';
  return 'json';
}

/** The field values (strings, booleans) a form starts with, from the schema's defaults. */
export function initialValues(schema) {
  const values = {};
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    const kind = kindOf(prop);
    if (kind === 'boolean') values[name] = prop.default === true;
    else if (prop.default !== undefined)
      values[name] = kind === 'json' ? pretty(prop.default) : kind === 'list' ? prop.default.join('\n') : String(prop.default);
    else values[name] = '';
  }
  return values;
}

/** Field values → arguments, or throws naming the field that is wrong. */
export function argumentsFrom(schema, values) {
  const args = {};
  const required = new Set(schema?.required ?? []);
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    const kind = kindOf(prop);
    const raw = values[name];
    if (kind === 'boolean') {
      if (raw || required.has(name) || prop.default !== undefined) args[name] = Boolean(raw);
      continue;
    }
    if (raw === '' || raw === undefined) {
      if (required.has(name)) throw new Error(`${name} is required`);
      continue;
    }
    if (kind === 'number' || kind === 'integer') {
      const n = Number(raw);
      if (!Number.isFinite(n) || (kind === 'integer' && !Number.isInteger(n)))
        throw new Error(`${name} must be ${kind === 'integer' ? 'an integer' : 'a number'}`);
      args[name] = n;
    } else if (kind === 'list') {
      const items = raw
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
      args[name] = prop.items.type === 'string' ? items : items.map(Number);
    } else if (kind === 'json') {
      try {
        args[name] = JSON.parse(raw);
      } catch {
        throw new Error(`${name} must be JSON`);
      }
    } else args[name] = raw;
  }
  return args;
}

/** The fields of an object schema; `values` and `onChange` hold what was typed. */
export function SchemaFields({ schema, values, onChange, idPrefix = 'f' }) {
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) return html`<p class="muted">No arguments.</p>`;
  const required = new Set(schema.required ?? []);
  const set = (name) => (event) =>
    onChange({ ...values, [name]: event.target.type === 'checkbox' ? event.target.checked : event.target.value });
  return properties.map(([name, prop]) => {
    const kind = kindOf(prop);
    const id = `${idPrefix}-${name}`;
    const label = html`<label for=${id}>${prop.title ?? name}${required.has(name) ? html`<span class="required" title="required">*</span>` : ''} <span class="muted">${kind === 'json' ? 'JSON' : kind === 'list' ? `one ${prop.items.type} per line` : kind}</span></label>`;
    let input;
    if (kind === 'boolean') input = html`<input id=${id} name=${name} type="checkbox" checked=${values[name]} onChange=${set(name)} />`;
    else if (kind === 'enum')
      input = html`<select id=${id} name=${name} value=${values[name]} onChange=${set(name)}><option value="">—</option>${prop.enum.map((v) => html`<option value=${v}>${v}</option>`)}</select>`;
    else if (kind === 'json' || kind === 'list')
      input = html`<textarea id=${id} name=${name} rows="3" value=${values[name]} onInput=${set(name)} />`;
    else
      input = html`<input id=${id} name=${name} type=${kind === 'string' ? (prop.format === 'email' ? 'email' : 'text') : 'number'} step=${kind === 'number' ? 'any' : '1'} value=${values[name]} onInput=${set(name)} />`;
    return html`<div class="field">${label}${input}${prop.description ? html`<div class="hint">${prop.description}</div>` : ''}</div>`;
  });
}

/**
 * State that starts from what the route says (a search, a log source) and starts again when the
 * route changes it; set synchronously, so nothing typed right after a navigation is lost.
 */
export function useRouteState(initial) {
  const [state, setState] = useState({ from: initial, value: initial ?? '' });
  const value = state.from === initial ? state.value : (initial ?? '');
  return [value, (next) => setState({ from: initial, value: next })];
}

/** A small hook for a form over a schema: values, a reset when the schema changes. */
export function useSchemaValues(schema, key) {
  const [state, setState] = useState({ key, values: initialValues(schema) });
  if (state.key !== key) {
    const fresh = { key, values: initialValues(schema) };
    setState(fresh);
    return [fresh.values, (values) => setState({ key, values })];
  }
  return [state.values, (values) => setState({ key, values })];
}
