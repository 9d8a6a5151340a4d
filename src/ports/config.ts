/** The config file's servers, as the dashboard edits them (implemented by daemon/config-edit.ts). */
import type { ConfigEditResult, ConfigServerEdit } from '../protocol/types.js';

export interface ConfigPort {
  /** The config file's entry for a server as written (`${VAR}`s kept, what looks secret masked). */
  entry(name: string): Promise<{ file: string; entry: Record<string, unknown> }>;
  /** One edit of the file (comments kept), then a reload; a new or changed server that does not start is taken back. */
  edit(edit: ConfigServerEdit): Promise<ConfigEditResult>;
}
