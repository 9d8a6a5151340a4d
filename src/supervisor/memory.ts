/**
 * What a server listed when it last ran, kept under MCPD_HOME so a lazy server is listed without
 * being started. One file per server, keyed by what starts it (command, args, env, cwd; a
 * remote server's URL and headers): a changed entry is never served the old catalogue. A file
 * that is torn, of another format or mcpd version, or of another entry is ignored, never trusted.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { canonicalJson } from '../util/canonical.js';
import { writeFileAtomicAsync } from '../util/files.js';
import { VERSION } from '../version.js';
import type { ServerLists } from '../upstream/types.js';

const FORMAT = 1;
/** A file no daemon has written for this long, of a server no longer configured, is removed. */
export const FORGET_AFTER_MS = 30 * 24 * 60 * 60 * 1000;
/** The files this memory writes: a digest of the server's name (file()), and their temporary siblings. */
const MEMORY_FILE = /^[0-9a-f]{32}\.json(\.[0-9]+\.tmp)?$/;
/** Larger than any real catalogue; a bigger file is not read into memory. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;

export interface Remembered {
  lists: ServerLists;
  capabilities: ServerCapabilities;
  instructions?: string;
  serverInfo?: { name: string; version: string };
  /** The protocol revision it spoke (shown while it is idle; a wake negotiates afresh). */
  protocolVersion?: string;
  /** Its `resources/templates/list`, as it last answered (so finding a template's owner wakes nobody). */
  templates?: unknown[];
  /** When it last stopped running (ms since the epoch). */
  lastRanAt?: number;
}

interface FileShape extends Remembered {
  format: number;
  mcpd: string;
  server: string;
  key: string;
  savedAt: string;
}

/** What starts the server, hashed: the file holds no secret of the config. */
function memoryKey(config: ServerConfig): string {
  const start =
    config.transport === 'stdio'
      ? { transport: 'stdio', command: config.command, args: config.args, env: config.env, cwd: config.cwd }
      : { transport: 'http', url: config.url, wire: config.wire, headers: config.headers };
  return createHash('sha256').update(canonicalJson(start)).digest('hex');
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const named = (key: 'name' | 'uri') => (item: unknown) => isObject(item) && typeof item[key] === 'string';

/** The file's catalogue when it is whole and of this entry, else why not. */
function check(file: unknown, key: string): FileShape | string {
  if (!isObject(file)) return 'not a JSON object';
  if (file['format'] !== FORMAT || file['mcpd'] !== VERSION) return `written by another version (${String(file['mcpd'])})`;
  if (file['key'] !== key) return "written for another command, args, env or cwd than the config's";
  const lists = file['lists'];
  if (
    !isObject(lists) ||
    !Array.isArray(lists['tools']) ||
    !lists['tools'].every((t) => named('name')(t) && isObject((t as Record<string, unknown>)['inputSchema'])) ||
    !Array.isArray(lists['resources']) ||
    !lists['resources'].every(named('uri')) ||
    !Array.isArray(lists['prompts']) ||
    !lists['prompts'].every(named('name'))
  )
    return 'its lists are not whole';
  if (!isObject(file['capabilities'])) return 'it has no capabilities';
  if (file['templates'] !== undefined && !Array.isArray(file['templates'])) return 'its templates are not a list';
  return file as unknown as FileShape;
}

export type MemoryLog = (server: string, level: 'info' | 'warn', message: string) => void;

export class CatalogueMemory {
  /** Writes of one file, one after another (they share a temporary name). */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly log: MemoryLog,
  ) {}

  private file(name: string): string {
    // Server names are free text: the file name is a digest of it, the name is inside.
    return join(this.dir, `${createHash('sha256').update(name).digest('hex').slice(0, 32)}.json`);
  }

  /** The server's remembered catalogue, if one is there and may be trusted. */
  recall(config: ServerConfig): Remembered | undefined {
    const path = this.file(config.name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log(
          config.name,
          'warn',
          `could not read its remembered catalogue ${path}: ${errorMessage(error)}; starting it to learn again`,
        );
      return undefined;
    }
    if (text.length > MAX_FILE_BYTES) return this.distrust(config, path, 'too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.distrust(config, path, 'not whole JSON (torn)');
    }
    const checked = check(parsed, memoryKey(config));
    if (typeof checked === 'string') return this.distrust(config, path, checked);
    const { lists, capabilities, instructions, serverInfo, protocolVersion, templates, lastRanAt } = checked;
    return {
      lists: { tools: lists.tools, resources: lists.resources, prompts: lists.prompts },
      capabilities,
      ...(typeof instructions === 'string' ? { instructions } : {}),
      ...(isObject(serverInfo) ? { serverInfo } : {}),
      ...(typeof protocolVersion === 'string' ? { protocolVersion } : {}),
      ...(templates ? { templates } : {}),
      ...(typeof lastRanAt === 'number' ? { lastRanAt } : {}),
    };
  }

  private distrust(config: ServerConfig, path: string, why: string): undefined {
    this.log(config.name, 'warn', `ignored its remembered catalogue ${path}: ${why}; starting it to learn again`);
    return undefined;
  }

  /** Keeps what the server reported (a failed write is logged: the server then starts to learn). */
  keep(config: ServerConfig, remembered: Remembered): Promise<void> {
    const path = this.file(config.name);
    const body: FileShape = {
      format: FORMAT,
      mcpd: VERSION,
      server: config.name,
      key: memoryKey(config),
      savedAt: new Date().toISOString(),
      ...remembered,
    };
    const previous = this.writing.get(path) ?? Promise.resolve();
    const write = previous
      .then(async () => {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        await writeFileAtomicAsync(path, JSON.stringify(body));
      })
      .catch((error: unknown) => this.log(config.name, 'warn', `could not remember its catalogue: ${errorMessage(error)}`))
      .finally(() => {
        if (this.writing.get(path) === write) this.writing.delete(path);
      });
    this.writing.set(path, write);
    return write;
  }

  /**
   * Removes the catalogues of servers the config no longer names that no daemon has written for
   * `maxAgeMs` (a running lazy server's file is rewritten each time it stops): the folder does not
   * grow with every server ever tried, and another config sharing this home keeps its servers'
   * until then. Resolves with how many it removed; never throws (a failure is logged).
   */
  async forgetUnused(configured: Iterable<string>, maxAgeMs = FORGET_AFTER_MS, now = Date.now()): Promise<number> {
    const kept = new Set([...configured].map((name) => this.file(name)));
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log('daemon', 'warn', `could not list ${this.dir}: ${errorMessage(error)}`);
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      if (!MEMORY_FILE.test(name) || kept.has(path) || this.writing.has(path)) continue;
      try {
        if (now - (await stat(path)).mtimeMs < maxAgeMs) continue;
        await rm(path, { force: true });
        removed += 1;
      } catch (error) {
        this.log('daemon', 'warn', `could not remove the unused catalogue ${path}: ${errorMessage(error)}`);
      }
    }
    return removed;
  }

  /** Every write asked for so far, done. */
  async flushed(): Promise<void> {
    await Promise.all(this.writing.values());
  }
}
