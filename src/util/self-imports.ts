/**
 * `mcpd/config` and `mcpd/plugin` resolve from any folder, to this running mcpd: a config file
 * or a plugin beside a project that has no mcpd of its own installed (mcpd installed globally,
 * or run from a clone) can still import its helpers. A resolve hook (Node's module.register)
 * turns those two specifiers into this package's files; every other import resolves as ever.
 */
import { existsSync } from 'node:fs';
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';

type ResolveFilename = (request: string, ...rest: unknown[]) => string;

let registered = false;

/** This package's file for `relative` (from src/util or dist/…/): the .js build, or the .ts source when run from source. */
function own(relative: string): string {
  const js = new URL(relative, import.meta.url);
  if (existsSync(fileURLToPath(js))) return js.href;
  return new URL(relative.replace(/\.js$/, '.ts'), import.meta.url).href;
}

export function registerSelfImports(): void {
  if (registered) return;
  registered = true;
  const map = { 'mcpd/config': own('../config/define.js'), 'mcpd/plugin': own('../plugins/api.js') };
  // The specifier becomes a file URL and goes on down the chain, so a TypeScript loader after
  // this one (tsx) still loads it.
  const hook = `const map = ${JSON.stringify(map)};
export async function resolve(specifier, context, next) {
  return next(Object.hasOwn(map, specifier) ? map[specifier] : specifier, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  // A TypeScript config outside an ESM package is compiled to CommonJS: its require() takes the
  // same two names (Node 20 has no resolve hook for require).
  const cjs = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = cjs._resolveFilename;
  const files: Record<string, string> = {
    'mcpd/config': fileURLToPath(map['mcpd/config']),
    'mcpd/plugin': fileURLToPath(map['mcpd/plugin']),
  };
  cjs._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return original.call(this, Object.hasOwn(files, request) ? files[request]! : request, ...rest);
  };
}
