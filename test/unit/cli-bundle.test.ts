/**
 * The CLI bundle (dist/bundle, built by npm run build) keeps one-shot commands light: what the
 * entry and each everyday command load at once must hold neither SDK (MCP, Anthropic), nor zod,
 * nor the config loader, nor `ws` (the control client has its own small WebSocket client). Read from esbuild's metafile, so a stray static import fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';

interface Meta {
  outputs: Record<string, { entryPoint?: string; imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
}

const metaFile = join(ROOT, 'dist/bundle/meta.json');
const HEAVY = /node_modules\/(@modelcontextprotocol\/sdk|@anthropic-ai\/sdk|zod|cosmiconfig|jsonc-parser|execa|ws)\//;

describe.runIf(existsSync(metaFile))('the CLI bundle', () => {
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;
  const outputs = meta.outputs;
  const entry = Object.keys(outputs).find((k) => outputs[k]!.entryPoint === 'src/cli/main.ts')!;
  /** The files a chunk loads before it runs: its static imports, transitively. */
  const loadedWith = (file: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const i of outputs[file]!.imports) if (i.kind === 'import-statement' && outputs[i.path]) loadedWith(i.path, seen);
    return seen;
  };
  const heavyIn = (files: Set<string>) => [
    ...new Set(
      [...files]
        .flatMap((f) => Object.keys(outputs[f]!.inputs))
        .filter((input) => HEAVY.test(input))
        .map((input) => HEAVY.exec(input)![1]),
    ),
  ];
  /** The chunk a command's lazy import loads (found by the command's source file). */
  const commandChunk = (source: string) =>
    Object.keys(outputs).find((k) => k.endsWith('.js') && Object.keys(outputs[k]!.inputs).includes(source))!;

  it('the entry (--version, --help, parsing) loads none of them', () => {
    expect(heavyIn(loadedWith(entry))).toEqual([]);
  });

  for (const command of ['status', 'call', 'tools', 'logs', 'stop', 'start', 'reload']) {
    it(`mcpd ${command} loads none of them`, () => {
      const chunk = commandChunk(`src/cli/commands/${command}.ts`);
      expect(chunk, `a chunk holding src/cli/commands/${command}.ts`).toBeDefined();
      expect(heavyIn(loadedWith(chunk, loadedWith(entry)))).toEqual([]);
    });
  }

  it('the daemon (serve) is only loaded by serve, lazily', () => {
    const serve = commandChunk('src/cli/commands/serve.ts');
    expect(heavyIn(loadedWith(serve))).toEqual([]); // serve imports the daemon when it runs
    const daemon = commandChunk('src/daemon/daemon.ts');
    expect(heavyIn(loadedWith(daemon))).toContain('@modelcontextprotocol/sdk');
  });

  it("the daemon loads the v2 client and both SDKs' server side only after it has spawned its servers", () => {
    // On a small machine a cold start is CPU-bound: what loads before the first spawn delays every server.
    const daemon = commandChunk('src/daemon/daemon.ts');
    const inputs = [...loadedWith(daemon)].flatMap((f) => Object.keys(outputs[f]!.inputs));
    const late =
      /node_modules\/@modelcontextprotocol\/(client|server|ext-apps)\/|node_modules\/@modelcontextprotocol\/sdk\/dist\/esm\/server\/(index|mcp|streamableHttp)\.js/;
    expect(inputs.filter((input) => late.test(input))).toEqual([]);
    // And they are still in the bundle, behind dynamic imports.
    expect(Object.values(outputs).some((o) => Object.keys(o.inputs).some((input) => input.includes('@modelcontextprotocol/client/')))).toBe(
      true,
    );
  });
});
