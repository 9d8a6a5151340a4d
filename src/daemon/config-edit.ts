/**
 * The dashboard's edits of the config file: the same edits as `mcpd server add|remove|enable|
 * disable` (config/server-edit.ts: comments kept, checked before writing), made by the daemon on
 * the file it runs on, then applied by a reload. The file stays the only place commands come from:
 * what the page adds is written there first and read back like any edit. One edit at a time.
 */
import { userConfigFile } from '../config/locate.js';
import { McpdError, isMcpdError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logs/store.js';
import type { ConfigPort } from '../ports/config.js';
import type { ConfigEditResult, ConfigServerEdit, ReloadResult, ServerStatus } from '../protocol/types.js';

export interface ConfigEditorDeps {
  /** The file the running config came from (undefined: none was found at the start). */
  file(): string | undefined;
  reload(): Promise<ReloadResult>;
  server(name: string): ServerStatus | undefined;
  assertOpen(): void;
  log: Logger;
}

/** States a server may be left in by an edit: up, or waiting on purpose. */
const SETTLED_UP = new Set<ServerStatus['state']>(['running', 'idle', 'disabled', 'needs-auth']);

/** The editing code (jsonc-parser's edits), loaded on the first edit: a daemon's start has no use for it. */
async function editing() {
  const [document, server] = await Promise.all([import('../config/edit.js'), import('../config/server-edit.js')]);
  return { ...document, ...server };
}

export class ConfigEditor implements ConfigPort {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ConfigEditorDeps) {}

  /** The running config's file; with none, the user's (a reload then finds it). */
  private target(): string {
    return this.deps.file() ?? userConfigFile();
  }

  async entry(name: string): Promise<{ file: string; entry: Record<string, unknown> }> {
    const file = this.target();
    const { readDocument, maskedEntry } = await editing();
    const doc = readDocument(file);
    if (!Object.hasOwn(doc.servers, name))
      throw new McpdError('MCPD_SERVER_UNKNOWN', `No server named "${name}" in ${file}: it is not one of the config's.`, { server: name });
    return { file, entry: maskedEntry(doc.servers[name]!) };
  }

  edit(edit: ConfigServerEdit): Promise<ConfigEditResult> {
    const run = this.queue.catch(() => undefined).then(() => this.run(edit));
    this.queue = run;
    return run;
  }

  private async run(edit: ConfigServerEdit): Promise<ConfigEditResult> {
    this.deps.assertOpen();
    const file = this.target();
    const { writeDocument, planServerEdit } = await editing();
    const plan = planServerEdit(file, edit);
    writeDocument(file, plan.text);
    this.deps.log.info(`config: ${plan.said} (from the dashboard)`);
    let reload: ReloadResult;
    try {
      reload = await this.deps.reload();
    } catch (error) {
      // The file was checked before it was written; a reload that fails anyway (the daemon
      // stopping, another part of the file broken meanwhile) must not leave the edit half-applied.
      writeDocument(file, plan.doc.text);
      throw error;
    }
    const server = edit.action === 'remove' ? undefined : this.deps.server(edit.name);
    const startsAnew = edit.action === 'add' || edit.action === 'update';
    if (startsAnew && server && !SETTLED_UP.has(server.state)) {
      // A server that cannot start is not worth keeping: the file goes back as it was.
      writeDocument(file, plan.doc.text);
      await this.deps.reload().catch((error: unknown) => {
        if (!isMcpdError(error, 'MCPD_CLOSED')) throw error;
      });
      const verb = edit.action === 'add' ? (plan.existed ? 'Not replaced' : 'Not added') : 'Not changed';
      const why = server.lastError?.message ?? `it is ${server.state}`;
      throw new McpdError(
        (server.lastError?.code as ErrorCode | undefined) ?? 'MCPD_SERVER_SPAWN_FAILED',
        `${verb}: server "${edit.name}" did not start: ${why}\n${file} is as it was.`,
        { server: edit.name, details: { file } },
      );
    }
    return { file, said: plan.said, ...(server ? { server } : {}), reload };
  }
}
