/**
 * For `mcp.config.ts`: `export default defineConfig({ servers: { … } })`, typed by the schema
 * (schema.ts). Importable as `mcpd/config` from a config anywhere. No runtime dependencies.
 */
import type { UserConfig } from './types.js';

export type { UserConfig, UserServerConfig } from './types.js';

/** Returns the config as given: it exists for the types. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
