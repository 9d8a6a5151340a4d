/** The merged catalogue as clients and Claude see it, after the plugins (catalogue/published.ts). */
import type { PromptEntry, ResourceEntry, ToolEntry } from '../protocol/types.js';

export interface CataloguePort {
  /** The tools, settled: a refresh under way is waited for. */
  tools(server?: string): Promise<ToolEntry[]>;
  resources(server?: string): ResourceEntry[];
  prompts(server?: string): PromptEntry[];
  /** The servers that list this resource URI. */
  resourceOwners(uri: string): string[];
}
