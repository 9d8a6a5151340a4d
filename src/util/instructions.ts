/**
 * What the servers say of how to use them (`instructions`, from `initialize` or
 * `server/discover`), merged into one text for a host or for Claude: each server's under its
 * name, since the tools are namespaced by it. Hosts read them to know when to reach for a server
 * (Claude Code's tool search does), so they travel through mcpd rather than stopping at it.
 */

/** One server's instructions are cut past this many characters (a server cannot fill a host's context). */
export const MAX_SERVER_INSTRUCTIONS = 8_000;

export interface ServerInstructions {
  name: string;
  instructions?: string | undefined;
}

function cut(text: string): string {
  return text.length <= MAX_SERVER_INSTRUCTIONS ? text : `${text.slice(0, MAX_SERVER_INSTRUCTIONS)}\n[cut by mcpd]`;
}

/**
 * The servers' instructions after `intro`, each labelled, in name order (a stable text keeps a
 * host's prompt cache); `intro` alone when no server gives any.
 */
export function mergeInstructions(intro: string, servers: readonly ServerInstructions[], namespaced: boolean): string {
  const given = servers.filter((s) => s.instructions?.trim()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (given.length === 0) return intro;
  const head = namespaced
    ? 'What the servers say of their own use (each about its tools, named SERVER__TOOL):'
    : 'What the server says of its own use:';
  // In tags, not headings: a server's own text has headings of its own.
  const parts = given.map((s) =>
    namespaced ? `<server name="${s.name}">\n${cut(s.instructions!.trim())}\n</server>` : cut(s.instructions!.trim()),
  );
  return `${intro}\n\n${head}\n\n${parts.join('\n\n')}`;
}
