/**
 * One change to one server of a config file — add, update, remove, enable, disable — planned
 * (the new text, checked as the daemon would load it) before anything is written. `mcpd server …`
 * and the dashboard make the same edits through this, so both keep comments, refuse the same
 * things and say the same words.
 */
import { McpdError } from '../errors.js';
import { maskUrl, SECRET_MASK } from '../util/secrets.js';
import { checkEdited, edited, readDocument, type ConfigDocument } from './edit.js';
import { looksSecret } from './mask.js';

export type ServerEditAction = 'add' | 'update' | 'remove' | 'enable' | 'disable';

export interface ServerEdit {
  action: ServerEditAction;
  name: string;
  /**
   * add: the whole entry; update: the fields to set (the rest of the entry stays). A function is
   * called once the name is known to be free, so a taken name is said before anything else.
   */
  entry?: Record<string, unknown> | (() => Record<string, unknown>);
  /** add: replace an entry of that name (`--force`). */
  replace?: boolean;
}

export interface PlannedEdit {
  doc: ConfigDocument;
  /** The file's text after the edit. */
  text: string;
  /** Whether the file had a server of that name before. */
  existed: boolean;
  /** One line for a person: what was done. */
  said: string;
}

/** The fields that say how a server runs: an update that sets one kind drops the other kind's. */
const LOCAL_FIELDS = ['command', 'args', 'cwd', 'env'];
const REMOTE_FIELDS = ['url', 'type', 'headers', 'oauth'];

export function planServerEdit(file: string, edit: ServerEdit): PlannedEdit {
  const doc = readDocument(file);
  const { action, name } = edit;
  const existed = Object.hasOwn(doc.servers, name);
  let text: string;
  let said: string;
  if (action === 'add') {
    if (existed && !edit.replace) throw new McpdError('MCPD_USAGE', `A server named "${name}" is in ${file} already; --force replaces it.`);
    text = edited(doc, [name], entryOf(edit));
    said = `${existed ? 'Replaced' : 'Added'} server "${name}" in ${file}.`;
  } else {
    if (!existed)
      throw new McpdError(
        'MCPD_SERVER_UNKNOWN',
        `No server named "${name}" in ${file} (servers: ${Object.keys(doc.servers).join(', ') || 'none'}).`,
      );
    if (action === 'update') {
      text = edited(doc, [name], updatedEntry(doc.servers[name]!, entryOf(edit)));
      said = `Changed server "${name}" in ${file}.`;
    } else if (action === 'remove') {
      text = edited(doc, [name], undefined);
      said = `Removed server "${name}" from ${file}.`;
    } else {
      text = edited(doc, [name, 'disabled'], action === 'disable' ? true : undefined);
      said = `${action === 'disable' ? 'Disabled' : 'Enabled'} server "${name}" in ${file}.`;
    }
  }
  checkEdited(doc, text, name);
  return { doc, text, existed, said };
}

function entryOf(edit: ServerEdit): Record<string, unknown> {
  const entry = typeof edit.entry === 'function' ? edit.entry() : edit.entry;
  if (!entry || typeof entry !== 'object' || Array.isArray(entry))
    throw new McpdError('MCPD_USAGE', `${edit.action === 'add' ? 'Adding' : 'Changing'} server "${edit.name}" needs its entry.`);
  return entry;
}

/**
 * The entry with `changes` set: a value shown masked (`••••••`) and sent back unchanged keeps
 * what the file holds, so editing a server from a page that never saw its secrets keeps them.
 */
export function updatedEntry(current: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  const remote = 'url' in changes;
  const local = 'command' in changes;
  for (const field of remote ? LOCAL_FIELDS : local ? REMOTE_FIELDS : []) delete next[field];
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined || value === null) delete next[field];
    else if ((field === 'env' || field === 'headers') && isRecord(value)) next[field] = unmasked(value, current[field]);
    else if (field === 'oauth' && isRecord(value)) next[field] = unmasked(value, current[field]);
    else if (field === 'url' && typeof current['url'] === 'string' && value === shownUrl(current['url'])) next[field] = current['url'];
    else next[field] = value;
  }
  return next;
}

function unmasked(values: Record<string, unknown>, before: unknown): Record<string, unknown> {
  const old = isRecord(before) ? before : {};
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === SECRET_MASK && key in old ? old[key] : value]));
}

/** A file's entry as a page may show it for editing: what looks secret masked, `${VAR}`s kept. */
export function maskedEntry(entry: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...entry };
  if (typeof entry['url'] === 'string') shown['url'] = shownUrl(entry['url']);
  const literal = (value: unknown): value is string => typeof value === 'string' && !/^\$\{[^}]+\}$/.test(value.trim());
  if (isRecord(entry['env']))
    shown['env'] = Object.fromEntries(
      Object.entries(entry['env']).map(([key, value]) => [key, literal(value) && looksSecret(key, value) ? SECRET_MASK : value]),
    );
  if (isRecord(entry['headers']))
    shown['headers'] = Object.fromEntries(
      Object.entries(entry['headers']).map(([key, value]) => [key, literal(value) ? SECRET_MASK : value]),
    );
  if (isRecord(entry['oauth']) && entry['oauth']['clientSecret'] !== undefined)
    shown['oauth'] = { ...entry['oauth'], clientSecret: SECRET_MASK };
  return shown;
}

/** A URL with its secret parts masked, the mask readable (not percent-encoded) in a form. */
function shownUrl(url: string): string {
  return maskUrl(url).split(encodeURIComponent(SECRET_MASK)).join(SECRET_MASK);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
