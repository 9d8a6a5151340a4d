/**
 * redact-secrets: removes credentials from tool results, resource contents and prompt messages
 * before Claude or any client sees them — Anthropic keys, AWS keys, GitHub tokens, bearer tokens,
 * private-key blocks — and says how many it removed (a line at the end of a tool result, and in
 * `mcpd logs`).
 *
 * Options: { patterns?: string[] } — extra regular expressions (sources) to redact.
 */
import { definePlugin, type PromptGetResult, type ResourceReadResult, type ToolResult } from 'mcpd/plugin';

interface Options {
  patterns?: string[];
}

interface Rule {
  label: string;
  pattern: RegExp;
  /** Keeps a prefix (the "Bearer " or "aws_secret_access_key=") so the text still reads. */
  keepGroup?: number;
}

export const RULES: Rule[] = [
  { label: 'private key', pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g },
  { label: 'Anthropic key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { label: 'AWS access key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { label: 'AWS secret key', pattern: /(aws_secret_access_key["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}/gi, keepGroup: 1 },
  { label: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { label: 'bearer token', pattern: /(\bBearer\s+)[A-Za-z0-9._~+/-]{16,}=*/g, keepGroup: 1 },
];

/** `found` collects the distinct secrets per kind (a result may carry the same text twice). */
export function redactText(text: string, rules: Rule[], found: Map<string, Set<string>>): string {
  let out = text;
  for (const rule of rules) {
    out = out.replace(rule.pattern, (...match: unknown[]) => {
      const secret = match[0] as string;
      if (!found.has(rule.label)) found.set(rule.label, new Set());
      found.get(rule.label)!.add(secret);
      const group = rule.keepGroup === undefined ? undefined : match[rule.keepGroup];
      const kept = typeof group === 'string' ? group : '';
      return `${kept}[REDACTED ${rule.label}]`;
    });
  }
  return out;
}

function redactValue(value: unknown, rules: Rule[], found: Map<string, Set<string>>): unknown {
  if (typeof value === 'string') return redactText(value, rules, found);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, rules, found));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, rules, found)]));
  }
  return value;
}

function describeFound(found: Map<string, Set<string>>): { total: number; kinds: string } {
  const total = [...found.values()].reduce((a, b) => a + b.size, 0);
  const kinds = [...found.entries()].map(([label, set]) => `${set.size} ${label}${set.size === 1 ? '' : 's'}`).join(', ');
  return { total, kinds };
}

export default definePlugin<Options>({
  name: 'redact-secrets',
  setup(ctx, options) {
    const rules = [
      ...RULES,
      ...(options.patterns ?? []).map((source, i) => ({ label: `pattern ${i + 1}`, pattern: new RegExp(source, 'g') })),
    ];
    const report = (what: string, found: Map<string, Set<string>>): boolean => {
      const { total, kinds } = describeFound(found);
      if (total > 0) ctx.log.info(`${what}: redacted ${total} secret${total === 1 ? '' : 's'} (${kinds})`);
      return total > 0;
    };
    return {
      afterResourceRead(read, result): ResourceReadResult | void {
        const found = new Map<string, Set<string>>();
        // Text contents are redacted; binary (blob) contents pass as they are.
        const contents = result.contents.map((item) =>
          typeof item['text'] === 'string' ? { ...item, text: redactText(item['text'], rules, found) } : item,
        );
        if (report(read.uri, found)) return { ...result, contents };
      },
      afterPromptGet(get, result): PromptGetResult | void {
        const found = new Map<string, Set<string>>();
        const messages = result.messages.map((m) => ({ ...m, content: redactValue(m.content, rules, found) as typeof m.content }));
        if (report(get.prompt, found)) return { ...result, messages };
      },
      afterToolCall(call, result): ToolResult | void {
        const found = new Map<string, Set<string>>();
        const content = result.content.map((item) => {
          if (item.type === 'text') return { ...item, text: redactText(String(item['text']), rules, found) };
          if (item.type === 'resource') return { ...item, resource: redactValue(item['resource'], rules, found) };
          return item;
        });
        const structured =
          result.structuredContent === undefined
            ? undefined
            : (redactValue(result.structuredContent, rules, found) as Record<string, unknown>);
        if (!report(call.tool, found)) return;
        const { total, kinds } = describeFound(found);
        content.push({ type: 'text', text: `[redact-secrets: ${total} secret${total === 1 ? '' : 's'} redacted: ${kinds}]` });
        return { ...result, content, ...(structured === undefined ? {} : { structuredContent: structured }) };
      },
    };
  },
});
