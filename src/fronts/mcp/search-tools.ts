/**
 * A profile of `exposure: "search"` (gateway.profiles.NAME.exposure): a big catalogue behind two
 * tools, so a host's model pays for two definitions (and the pinned tools) instead of every
 * tool's. `mcpd_search_tools` ranks the profile's tools by a query (BM25, util/bm25.ts) and gives
 * the best ones with their input schemas; `mcpd_call_tool` calls one exactly as a direct call
 * would (the same route: plugins, allow/deny, progress, cancellation). Both descriptions say what
 * is behind them, servers and counts: a model skips a finder it does not understand.
 */
import type { ToolEntry } from '../../protocol/types.js';
import { Bm25Index, type Fields } from '../../util/bm25.js';
import { matchesAny } from '../../util/glob.js';
import { plural } from '../../util/plural.js';
import { closestWord } from '../../util/suggest.js';

export const SEARCH_TOOL = 'mcpd_search_tools';
export const CALL_TOOL = 'mcpd_call_tool';

export const MAX_QUERY_CHARS = 1000;
export const DEFAULT_LIMIT = 5;
export const MAX_LIMIT = 50;

/** A tool's name counts three times, its argument names twice, the rest once. */
function fieldsOf(tool: ToolEntry): Fields {
  const properties = tool.inputSchema['properties'];
  const argumentNames = properties && typeof properties === 'object' ? Object.keys(properties).join(' ') : '';
  return [
    [`${tool.name} ${tool.originalName} ${tool.title ?? ''}`, 3],
    [argumentNames, 2],
    [tool.description, 1],
  ];
}

/** A few profiles' indexes: a list changes only when the catalogue does. */
const indexes: Bm25Index<ToolEntry>[] = [];
const same = (a: readonly ToolEntry[], b: readonly ToolEntry[]) => a.length === b.length && a.every((t, i) => t === b[i]);

export function indexOf(tools: readonly ToolEntry[]): Bm25Index<ToolEntry> {
  const found = indexes.find((index) => same(index.items, tools));
  if (found) return found;
  const index = new Bm25Index(tools, fieldsOf);
  indexes.push(index);
  if (indexes.length > 8) indexes.shift();
  return index;
}

/** "everything (13), memory (9)": what is behind the meta-tools. */
function behind(tools: readonly ToolEntry[]): string {
  const counts = new Map<string, number>();
  for (const tool of tools) counts.set(tool.server, (counts.get(tool.server) ?? 0) + 1);
  return [...counts].map(([server, n]) => `${server} (${n})`).join(', ') || 'none running now';
}

/** The two meta-tools' definitions, describing the `tools` they stand for. */
export function searchToolDefinitions(tools: readonly ToolEntry[]): Record<string, unknown>[] {
  const total = plural(tools.length, 'tool');
  return [
    {
      name: SEARCH_TOOL,
      title: 'Search the tools mcpd runs',
      description:
        `Finds tools by what they do among ${total} that are not listed here, from these servers: ${behind(tools)}. ` +
        'Use it first whenever a task needs a tool you do not see (files, issues, databases, the web, anything): ' +
        'give a few words of what you want to do, and it returns the best matching tools with their names, ' +
        `descriptions and input schemas. Then run one with ${CALL_TOOL}.`,
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'What the tool should do, in a few words (e.g. "read a file", "create issue").' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `How many tools to return (default ${DEFAULT_LIMIT}).` },
        },
        required: ['query'],
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    {
      name: CALL_TOOL,
      title: 'Call a tool found by search',
      description:
        `Calls one of the ${total} that ${SEARCH_TOOL} finds, by the exact name it gave, with arguments that follow ` +
        "that tool's input schema. The result is exactly that tool's own result.",
      inputSchema: {
        type: 'object',
        properties: {
          name: { type: 'string', description: `The tool's name, as ${SEARCH_TOOL} gave it.` },
          arguments: { type: 'object', description: "The tool's arguments, following its input schema.", additionalProperties: true },
        },
        required: ['name'],
      },
    },
  ];
}

/** The tools a search profile lists as they are. */
export function pinnedOf<T extends { exposed: string }>(tools: readonly T[], pinned: readonly string[]): T[] {
  return pinned.length === 0 ? [] : tools.filter((t) => matchesAny(t.exposed, pinned));
}

type ToolResult = Record<string, unknown>;

export function toolError(text: string): ToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** `mcpd_search_tools`: the best matches, as text for the model and as structuredContent. */
export function searchTools(tools: readonly ToolEntry[], args: Record<string, unknown> | undefined): ToolResult {
  const query = args?.['query'];
  const limit = args?.['limit'] ?? DEFAULT_LIMIT;
  if (typeof query !== 'string' || query.trim() === '')
    return toolError(`${SEARCH_TOOL} needs "query": a few words of what the tool should do (e.g. "read a file").`);
  if (query.length > MAX_QUERY_CHARS)
    return toolError(
      `The query is ${query.length} characters; ${SEARCH_TOOL} takes at most ${MAX_QUERY_CHARS}: say in a few words what the tool should do.`,
    );
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    return toolError(`"limit" must be a whole number from 1 to ${MAX_LIMIT} (got ${JSON.stringify(limit)}).`);
  const found = indexOf(tools).search(query, limit);
  const matches = found.map(({ item }) => ({
    name: item.name,
    ...(item.description ? { description: item.description } : {}),
    inputSchema: item.inputSchema,
  }));
  const structuredContent = { query, total: tools.length, tools: matches };
  if (matches.length === 0) {
    return {
      content: [
        {
          type: 'text',
          text: `No tool matches "${query}" among ${plural(tools.length, 'tool')} (servers: ${behind(tools)}). Try other words, such as the kind of thing it works on.`,
        },
      ],
      structuredContent,
    };
  }
  const lines = matches.map(
    (m) => `- ${m.name}${m.description ? `: ${m.description}` : ''}\n  input schema: ${JSON.stringify(m.inputSchema)}`,
  );
  const head = `${plural(matches.length, 'tool')} of ${tools.length} for "${query}", best first. Run one with ${CALL_TOOL} {"name": …, "arguments": {…}}:`;
  return { content: [{ type: 'text', text: `${head}\n${lines.join('\n')}` }], structuredContent };
}

/** What `mcpd_call_tool` names, checked: the tool and its arguments, or the tool error to give. */
export function callTarget(
  tools: readonly ToolEntry[],
  args: Record<string, unknown> | undefined,
  /** Whether the name is one the catalogue has and this profile leaves out. */
  hidden: boolean,
): { name: string; arguments: Record<string, unknown> | undefined } | { error: ToolResult } {
  const name = args?.['name'];
  const toolArgs = args?.['arguments'];
  if (typeof name !== 'string' || name === '')
    return { error: toolError(`${CALL_TOOL} needs "name": a tool's name as ${SEARCH_TOOL} gave it.`) };
  if (toolArgs !== undefined && (toolArgs === null || typeof toolArgs !== 'object' || Array.isArray(toolArgs)))
    return { error: toolError(`"arguments" must be an object of the tool's arguments (got ${JSON.stringify(toolArgs)}).`) };
  if (name === SEARCH_TOOL || name === CALL_TOOL) return { error: toolError(`Call ${name} directly, not through ${CALL_TOOL}.`) };
  if (hidden) return { error: toolError(`The tool "${name}" is not available here: this profile's allow/deny or servers leave it out.`) };
  if (!tools.some((t) => t.name === name)) {
    const hint = closestWord(
      name,
      tools.map((t) => t.name),
    );
    return {
      error: toolError(
        `No tool named "${name}" here.${hint ? ` Did you mean "${hint}"?` : ''} Find tools with ${SEARCH_TOOL} first, and use a name it gives.`,
      ),
    };
  }
  return { name, arguments: toolArgs as Record<string, unknown> | undefined };
}
