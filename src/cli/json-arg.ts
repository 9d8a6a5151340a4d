/** A JSON object given on the command line (`-` reads it from stdin), or a usage error with an example. */
import { readFileSync } from 'node:fs';
import { McpdError } from '../errors.js';

export function parseJsonObject(raw: string | undefined, example: string): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  const text = raw === '-' ? readFileSync(0, 'utf8') : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new McpdError('MCPD_USAGE', `ARGS_JSON is not valid JSON (${(error as Error).message}). Example: ${example}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new McpdError('MCPD_USAGE', `ARGS_JSON must be a JSON object, e.g. ${example}`);
  }
  return value as Record<string, unknown>;
}
