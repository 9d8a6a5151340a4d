/**
 * Loads a plugin module: a path (relative to the config file) or a package name. TypeScript
 * loads without a build step, through tsx's scoped import (each load gets fresh code, so a
 * reload picks up edits).
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import type { PluginDefinition } from './api.js';

function isPath(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier);
}

/** The module's default export (or its `plugin` export), checked to be a plugin definition. */
export async function importPlugin(specifier: string, configDir: string): Promise<PluginDefinition> {
  const target = isPath(specifier) ? pathToFileURL(resolve(configDir, specifier)).href : specifier;
  const module = (await tsImport(target, { parentURL: pathToFileURL(`${configDir}/`).href })) as { default?: unknown; plugin?: unknown };
  // tsx may wrap a CommonJS-style default once more.
  let candidate = module.default ?? module.plugin;
  if (candidate && typeof candidate === 'object' && 'default' in candidate && !('setup' in candidate)) candidate = (candidate as { default: unknown }).default;
  if (!candidate || typeof candidate !== 'object' || typeof (candidate as PluginDefinition).setup !== 'function' || typeof (candidate as PluginDefinition).name !== 'string') {
    throw new Error('it does not export a plugin: export default definePlugin({ name, setup(ctx, options) { … } })');
  }
  return candidate as PluginDefinition;
}
