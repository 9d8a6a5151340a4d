/**
 * tool-filter: allow, deny and rename tools across servers by glob on their namespaced names,
 * and override descriptions. Runs on the merged catalogue, so it sees every server at once.
 *
 * Options: { allow?: string[]   keep only these (globs; empty = all),
 *            deny?: string[]    then drop these (globs),
 *            rename?: { [name]: newName }        exact namespaced names,
 *            descriptions?: { [glob]: text } }   new descriptions
 */
import { definePlugin, matchesAny, globToRegExp } from 'mcpd/plugin';

interface Options {
  allow?: string[];
  deny?: string[];
  rename?: Record<string, string>;
  descriptions?: Record<string, string>;
}

export default definePlugin<Options>({
  name: 'tool-filter',
  setup(ctx, options) {
    const allow = options.allow ?? [];
    const deny = options.deny ?? [];
    const rename = options.rename ?? {};
    const descriptions = Object.entries(options.descriptions ?? {}).map(([glob, text]) => ({ match: globToRegExp(glob), text }));
    ctx.log.info(
      `allow ${allow.length ? allow.join(', ') : 'all'}; deny ${deny.join(', ') || 'none'}; ${Object.keys(rename).length} renames`,
    );
    return {
      catalogue(tools) {
        return tools
          .filter((tool) => (allow.length === 0 || matchesAny(tool.name, allow)) && !matchesAny(tool.name, deny))
          .map((tool) => {
            const description = descriptions.find((d) => d.match.test(tool.name))?.text;
            return { ...tool, name: rename[tool.name] ?? tool.name, ...(description === undefined ? {} : { description }) };
          });
      },
    };
  },
});
