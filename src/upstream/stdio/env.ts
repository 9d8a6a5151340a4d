/** The environment a server process gets: the daemon's, minus mcpd's own secrets, plus the config's. */

/** Never inherited by a child: the Anthropic key and mcpd's control token. */
export const WITHHELD_VARIABLES = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'MCPD_TOKEN'] as const;

export function childEnvironment(configured: Record<string, string>, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !(WITHHELD_VARIABLES as readonly string[]).includes(key)) env[key] = value;
  }
  // What the config sets explicitly is the user's choice, and wins.
  return { ...env, ...configured };
}
