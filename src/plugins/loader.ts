/**
 * Loads a plugin module: a path (relative to the config file) or a package name. JavaScript
 * loads with Node's own import; TypeScript without a build step, through tsx's scoped import,
 * which is loaded only then (the daemon does not pay for it otherwise). Each load gets fresh code,
 * so a reload picks up edits.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerSelfImports } from '../util/self-imports.js';
import type { PluginDefinition } from './api.js';

function isPath(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier);
}

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/;
let loads = 0;

async function importModule(specifier: string, configDir: string): Promise<{ default?: unknown; plugin?: unknown }> {
  const path = isPath(specifier) ? resolve(configDir, specifier) : undefined;
  const viaTsx = async (target: string) => {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(target, { parentURL: pathToFileURL(`${configDir}/`).href })) as { default?: unknown; plugin?: unknown };
  };
  if (path && TYPESCRIPT.test(path)) return viaTsx(pathToFileURL(path).href);
  // A query makes Node load the file again (its module cache is keyed by URL).
  if (path) return (await import(`${pathToFileURL(path).href}?load=${(loads += 1)}`)) as { default?: unknown; plugin?: unknown };
  // A package, resolved from the config's folder; one whose exports only Node's ESM resolver
  // understands (an "import" condition only) goes through tsx's.
  const { createRequire } = await import('node:module');
  let resolved: string;
  try {
    resolved = createRequire(pathToFileURL(`${configDir}/`).href).resolve(specifier);
  } catch {
    return viaTsx(specifier);
  }
  return (await import(`${pathToFileURL(resolved).href}?load=${(loads += 1)}`)) as { default?: unknown; plugin?: unknown };
}

/** The module's default export (or its `plugin` export), checked to be a plugin definition. */
export async function importPlugin(specifier: string, configDir: string): Promise<PluginDefinition> {
  // A plugin may import mcpd/plugin (definePlugin) wherever it lives.
  registerSelfImports();
  const module = await importModule(specifier, configDir);
  // tsx may wrap a CommonJS-style default once more.
  let candidate = module.default ?? module.plugin;
  if (candidate && typeof candidate === 'object' && 'default' in candidate && !('setup' in candidate)) candidate = candidate.default;
  if (
    !candidate ||
    typeof candidate !== 'object' ||
    typeof (candidate as PluginDefinition).setup !== 'function' ||
    typeof (candidate as PluginDefinition).name !== 'string'
  ) {
    throw new Error('it does not export a plugin: export default definePlugin({ name, setup(ctx, options) { … } })');
  }
  return candidate as PluginDefinition;
}
