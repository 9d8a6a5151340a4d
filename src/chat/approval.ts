/** Which tool calls run at once, which ask the person first, which never run. */
import { matchesAny } from '../util/glob.js';
import type { ApprovalAction, ChatConfig } from '../config/types.js';

export function approvalFor(tool: string, config: ChatConfig['approval'], alwaysAllowed: readonly string[]): ApprovalAction {
  if (config === undefined || config === 'auto') return 'allow';
  if (matchesAny(tool, config.deny)) return 'deny';
  if (alwaysAllowed.includes(tool)) return 'allow';
  if (matchesAny(tool, config.ask)) return 'ask';
  if (matchesAny(tool, config.allow)) return 'allow';
  return config.default;
}
