/** Tool names a host's own prefix would make too long for the Messages API (`mcpd tools`, `mcpd status`). */

/** The Messages API's longest tool name, and the prefix Claude Code gives the tools of an entry. */
const API_NAME_LIMIT = 64;
const hostName = (entry: string, tool: string) => `mcp__${entry}__${tool}`;

/**
 * Names a host will make too long for the API: a merged name past the room Claude Code's
 * `mcp__mcpd__` leaves (a plugin renamed it, or gateway.maxNameLength was raised), and a
 * server's own name on /servers/NAME/mcp, where the host's prefix names that entry.
 */
export function hostNameWarnings(tools: readonly { name: string; server: string; originalName: string }[]): string[] {
  const warnings: string[] = [];
  for (const tool of tools) {
    const merged = hostName('mcpd', tool.name);
    if (merged.length > API_NAME_LIMIT)
      warnings.push(
        `"${tool.name}" becomes ${merged.length} characters as Claude Code names it (${merged}), over the API's ${API_NAME_LIMIT}.`,
      );
    const own = hostName(tool.server, tool.originalName);
    if (own.length > API_NAME_LIMIT)
      warnings.push(
        `on /servers/${tool.server}/mcp, "${tool.originalName}" becomes ${own.length} characters as a host names it (${own}), over ${API_NAME_LIMIT}: use the merged endpoint or the bridge, whose names fit.`,
      );
  }
  return warnings;
}
