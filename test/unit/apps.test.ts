/**
 * The pieces of MCP Apps that decide alone: the sandbox's CSP from what an App declares, the
 * check of an App's document, and the App views' bounds.
 */
import { getToolUiResourceUri, isToolVisibilityAppOnly } from '@modelcontextprotocol/ext-apps/app-bridge';
import { describe, expect, it } from 'vitest';
import { sandboxPolicy } from '../../src/fronts/ui/sandbox.js';
import { AppDocumentError, MAX_APP_BYTES, appDocumentOf, appResourceOf, isAppCallable, isAppOnly } from '../../src/protocol/apps.js';
import { AppViews } from '../../src/routing/app-views.js';

const DASHBOARD = 'http://127.0.0.1:4000';

describe("a tool's App, read as ext-apps reads it", () => {
  const tools: { _meta?: Record<string, unknown> }[] = [
    {},
    { _meta: {} },
    { _meta: { ui: { resourceUri: 'ui://clock/app.html' } } },
    { _meta: { 'ui/resourceUri': 'ui://clock/flat.html' } },
    { _meta: { ui: { resourceUri: 'ui://a/new.html' }, 'ui/resourceUri': 'ui://a/old.html' } },
    { _meta: { ui: { resourceUri: 'https://example.com/app.html' } } },
    { _meta: { ui: { resourceUri: 42 } } },
    { _meta: { ui: { resourceUri: null }, 'ui/resourceUri': 'ui://a/old.html' } },
    { _meta: { ui: { visibility: ['app'] } } },
    { _meta: { ui: { visibility: ['model'] } } },
    { _meta: { ui: { visibility: ['model', 'app'] } } },
    { _meta: { ui: { visibility: [] } } },
    { _meta: { ui: { resourceUri: 'ui://m/poll.html', visibility: ['app'] } } },
  ];
  const theirs = (tool: (typeof tools)[number]) => {
    try {
      return getToolUiResourceUri(tool);
    } catch {
      return undefined;
    }
  };

  it('the same App and the same app-only verdict as the package, for every shape', () => {
    for (const tool of tools) {
      expect(appResourceOf(tool), JSON.stringify(tool)).toBe(theirs(tool));
      expect(isAppOnly(tool), JSON.stringify(tool)).toBe(isToolVisibilityAppOnly(tool as never));
    }
  });
});
const directive = (header: string, name: string) => header.split('; ').find((d) => d.startsWith(`${name} `));

describe('the sandbox CSP', () => {
  it('is the restrictive default where the App declares nothing', () => {
    const { header, dropped } = sandboxPolicy(undefined, [4000], [DASHBOARD]);
    expect(directive(header, 'connect-src')).toBe("connect-src 'none'");
    expect(directive(header, 'frame-src')).toBe("frame-src 'none'");
    expect(directive(header, 'default-src')).toBe("default-src 'none'");
    expect(directive(header, 'frame-ancestors')).toBe(`frame-ancestors ${DASHBOARD}`);
    expect(dropped).toEqual([]);
  });

  it('takes the declared domains, less what would open it to mcpd, and says what it left out', () => {
    const { header, dropped } = sandboxPolicy(
      {
        connectDomains: ['https://api.example.com', 'http://127.0.0.1:4000', 'ws://localhost:*', 'http://localhost:8080', '*', 'https:'],
        resourceDomains: ['https://cdn.example.com', "https://x.example.com; script-src 'unsafe-eval'", 'http://[::1]'],
        frameDomains: ['https://maps.example.com'],
      },
      [4000],
      [DASHBOARD],
    );
    expect(directive(header, 'connect-src')).toBe('connect-src https://api.example.com http://localhost:8080');
    expect(directive(header, 'script-src')).toContain('https://cdn.example.com');
    expect(directive(header, 'frame-src')).toBe('frame-src https://maps.example.com');
    expect(dropped).toEqual([
      "https://x.example.com; script-src 'unsafe-eval'",
      'http://[::1]',
      'http://127.0.0.1:4000',
      'ws://localhost:*',
      '*',
      'https:',
    ]);
    // Nothing declared can add a directive of its own.
    expect(header.split('; ').filter((d) => d.startsWith('script-src'))).toHaveLength(1);
  });

  it('is framed by nobody when the dashboard is not open', () => {
    expect(directive(sandboxPolicy(undefined, [], []).header, 'frame-ancestors')).toBe("frame-ancestors 'none'");
  });
});

describe('an App document', () => {
  const read = (content: Record<string, unknown>) => ({ contents: [{ uri: 'ui://a/app.html', ...content }] });

  it('is the HTML of a text/html;profile=mcp-app resource, text or blob, with its _meta.ui (the content’s over the list’s)', () => {
    const listed = { ui: { csp: { connectDomains: ['https://listed.example'] }, prefersBorder: false } };
    const doc = appDocumentOf(
      'ui://a/app.html',
      read({ mimeType: 'text/html;profile=mcp-app', text: '<p>hi</p>', _meta: { ui: { permissions: { camera: {} } } } }),
      listed,
    );
    expect(doc).toEqual({
      html: '<p>hi</p>',
      meta: { csp: { connectDomains: ['https://listed.example'] }, permissions: { camera: {} }, prefersBorder: false },
    });
    const blob = appDocumentOf(
      'ui://a/app.html',
      read({ mimeType: 'text/html;profile=mcp-app', blob: Buffer.from('<b>x</b>').toString('base64') }),
      undefined,
    );
    expect(blob.html).toBe('<b>x</b>');
  });

  it('is refused, saying why, when it is not an App, too big, or empty', () => {
    expect(() => appDocumentOf('ui://a/app.html', read({ mimeType: 'text/html', text: 'x' }), undefined)).toThrow(
      /is text\/html, not an App/,
    );
    expect(() =>
      appDocumentOf('ui://a/app.html', read({ mimeType: 'text/html;profile=mcp-app', text: 'x'.repeat(MAX_APP_BYTES + 1) }), undefined),
    ).toThrow(/mcpd shows Apps of up to 4 MB/);
    expect(() => appDocumentOf('ui://a/app.html', { contents: [] }, undefined)).toThrow(AppDocumentError);
  });
});

describe('tools and their Apps', () => {
  it('reads the nested key, the old flat one, and visibility', () => {
    expect(appResourceOf({ _meta: { ui: { resourceUri: 'ui://a/x.html' } } })).toBe('ui://a/x.html');
    expect(appResourceOf({ _meta: { 'ui/resourceUri': 'ui://a/y.html' } })).toBe('ui://a/y.html');
    expect(appResourceOf({ _meta: { ui: { resourceUri: 'https://not-ui' } } })).toBeUndefined();
    expect(isAppOnly({ _meta: { ui: { visibility: ['app'] } } })).toBe(true);
    expect(isAppOnly({ _meta: { ui: { visibility: ['model', 'app'] } } })).toBe(false);
    expect(isAppCallable({ _meta: { ui: { visibility: ['model'] } } })).toBe(false);
    expect(isAppCallable({})).toBe(true);
  });
});

describe('App views', () => {
  it('keeps the newest up to its limit, for its time', () => {
    let now = 0;
    const views = new AppViews(2, 1_000, () => now);
    const entry = { server: 's', tool: 's__t', originalName: 't', resourceUri: 'ui://s/a', input: {}, result: { content: [] } };
    const a = views.record(entry);
    const b = views.record(entry);
    const c = views.record(entry);
    expect(views.get(a)).toBeUndefined();
    expect(views.get(b)?.id).toBe(b);
    now = 1_001;
    expect(views.get(c)).toBeUndefined();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
