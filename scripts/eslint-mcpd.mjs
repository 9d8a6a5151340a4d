// mcpd's own lint rules: the layering of src/ (which folder may import which) and no import
// cycle between files. The table below is where the architecture is decided; docs/architecture.md
// draws it. Imports are resolved against the importing file, so a subfolder that shares a name
// with a top folder (cli/chat) is never taken for it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');

/**
 * Folder of src/ → the folders it may import (besides itself, the files at src/'s top: errors.ts
 * and version.ts, and packages). Read top to bottom: each folder imports only folders above it.
 */
export const LAYERS = {
  util: [],
  hotpath: ['util'],
  protocol: ['hotpath', 'util'],
  client: ['protocol', 'hotpath', 'util'],
  config: ['util'],
  logs: ['protocol', 'util'],
  home: ['util'],
  ports: ['protocol', 'config', 'logs', 'hotpath', 'util'],
  catalogue: ['ports', 'protocol', 'config', 'util'],
  plugins: ['catalogue', 'protocol', 'config', 'logs', 'util'],
  upstream: ['protocol', 'config', 'logs', 'hotpath', 'util'],
  supervisor: ['upstream', 'ports', 'protocol', 'config', 'logs', 'hotpath', 'util'],
  routing: ['supervisor', 'catalogue', 'plugins', 'ports', 'protocol', 'config', 'logs', 'hotpath', 'util'],
  chat: ['ports', 'protocol', 'config', 'logs', 'hotpath', 'util'],
  // A front imports only its ports, the protocol types and util (hotpath is util's fast part).
  fronts: ['ports', 'protocol', 'hotpath', 'util'],
  // The composition root: it makes every part.
  daemon: [
    'fronts',
    'chat',
    'routing',
    'supervisor',
    'upstream',
    'plugins',
    'catalogue',
    'ports',
    'home',
    'logs',
    'config',
    'protocol',
    'hotpath',
    'util',
  ],
  // The thin CLI talks to the daemon over the socket; only `mcpd serve` loads the daemon itself.
  cli: ['daemon', 'client', 'protocol', 'config', 'home', 'logs', 'hotpath', 'util'],
};

// The table itself must be a ladder: a folder cycle there would allow one in the code.
(function assertAcyclic() {
  const state = new Map();
  const visit = (folder, path) => {
    if (state.get(folder) === 'done') return;
    if (state.get(folder) === 'open') throw new Error(`scripts/eslint-mcpd.mjs: LAYERS has a cycle: ${[...path, folder].join(' → ')}`);
    state.set(folder, 'open');
    for (const next of LAYERS[folder] ?? []) visit(next, [...path, folder]);
    state.set(folder, 'done');
  };
  for (const folder of Object.keys(LAYERS)) visit(folder, []);
})();

/** The top folder of src/ a file is in; '' for a file at src/'s top; undefined outside src/. */
function folderOf(file) {
  const rel = relative(SRC, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  return parts.length === 1 ? '' : parts[0];
}

function importsOf(node) {
  const source = node.source;
  return source && source.type === 'Literal' && typeof source.value === 'string' ? source.value : undefined;
}

function visitImports(check) {
  const each = (node) => {
    const spec = importsOf(node);
    if (spec) check(node, spec);
  };
  return { ImportDeclaration: each, ExportNamedDeclaration: each, ExportAllDeclaration: each, ImportExpression: each };
}

const layering = {
  meta: { type: 'problem', docs: { description: 'src/ folders import only the folders LAYERS allows' }, schema: [] },
  create(context) {
    const file = context.filename;
    const from = folderOf(file);
    if (from === undefined || from === '') return {};
    const allowed = LAYERS[from];
    if (!allowed) {
      return {
        Program(node) {
          context.report({
            node,
            message: `src/${from}/ is not in the layering table (scripts/eslint-mcpd.mjs LAYERS): say what it may import`,
          });
        },
      };
    }
    return visitImports((node, spec) => {
      if (!spec.startsWith('.')) return;
      const to = folderOf(resolve(dirname(file), spec));
      if (to === undefined || to === '' || to === from || allowed.includes(to)) return;
      context.report({
        node,
        message: `src/${from}/ may not import src/${to}/ (${spec}); it may import: ${allowed.length ? allowed.join(', ') : 'nothing else of src/'} (scripts/eslint-mcpd.mjs)`,
      });
    });
  },
};

/** Every file of src/ and the files of src/ it imports (relative imports, types included). */
function importGraph() {
  const graph = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const deps = [];
        for (const m of text.matchAll(/(?:import|export)\s[^'";]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
          deps.push(resolve(dirname(path), m[1] ?? m[2]).replace(/\.js$/, '.ts'));
        }
        graph.set(path, deps);
      }
    }
  };
  walk(SRC);
  return graph;
}

/** The files that are in an import cycle, each with the cycle's members (Tarjan's algorithm). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const onStack = new Set();
  const indexOf = new Map();
  const low = new Map();
  const inCycle = new Map();
  const visit = (v) => {
    indexOf.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indexOf.get(w)));
    }
    if (low.get(v) === indexOf.get(v)) {
      const members = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1) for (const m of members) inCycle.set(m, members);
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return inCycle;
}

let cached;
const noCycle = {
  meta: { type: 'problem', docs: { description: 'no import cycle between files of src/' }, schema: [] },
  create(context) {
    const file = context.filename;
    if (folderOf(file) === undefined) return {};
    cached ??= cycles(importGraph());
    const members = cached.get(file);
    if (!members) return {};
    return visitImports((node, spec) => {
      if (!spec.startsWith('.')) return;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (members.includes(target)) {
        const names = members.map((m) => relative(SRC, m)).join(' → ');
        context.report({ node, message: `import cycle among ${names}: move what both need into a module of its own` });
      }
    });
  },
};

export default { rules: { layering, 'no-cycle': noCycle } };
