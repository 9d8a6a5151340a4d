/** The exit code of `mcpd serve` when another daemon owns the home (`mcpd start` reads it as "another start won"). */
export const EXIT_ALREADY_RUNNING = 4;
