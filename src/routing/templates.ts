/**
 * The server a URI belongs to when no server lists it: the one whose resource template it
 * expands (`test://template/123/data` from `test://template/{id}/data`). Templates are not in the
 * catalogue, so each running server that has resources is asked for its own.
 */
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { CallOptions, ForwardedRequest } from '../protocol/calls.js';

export interface TemplateSources {
  available(): { name: string; capabilities: ServerCapabilities }[];
  forward(server: string, request: ForwardedRequest, options: CallOptions): Promise<unknown>;
}

/** The servers one of whose templates matches `uri` (a server that fails to answer is left out). */
export async function templateOwners(sources: TemplateSources, uri: string, options: CallOptions): Promise<string[]> {
  const candidates = sources.available().filter((s) => s.capabilities.resources);
  const answers = await Promise.allSettled(
    candidates.map(async (s) => {
      const result = (await sources.forward(s.name, { method: 'resources/templates/list', params: {} }, options)) as {
        resourceTemplates?: { uriTemplate?: unknown }[];
      };
      const matches = (result.resourceTemplates ?? []).some((t) => {
        if (typeof t.uriTemplate !== 'string') return false;
        try {
          return new UriTemplate(t.uriTemplate).match(uri) !== null;
        } catch {
          return false; // a template we cannot parse matches nothing
        }
      });
      return matches ? s.name : undefined;
    }),
  );
  return answers.flatMap((a) => (a.status === 'fulfilled' && a.value !== undefined ? [a.value] : []));
}
