/**
 * The chat as the caller of one tool call: how it answers what the server asks while the call
 * runs. An elicitation is put to the person who started the turn; a sampling request goes to
 * Claude under chat.sampling, after the person approves it when the rule says to ask (or they
 * said "always" for that server in this session). What the turn cannot answer is left out, so
 * the request is declined with a log line (routing/server-requests.ts).
 */
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { SamplingRule } from '../config/types.js';
import type { Logger } from '../logs/store.js';
import type { ServerRequestHandler } from '../protocol/calls.js';
import type { ApprovalDecision, ChatEvent } from '../protocol/types.js';
import type { ChatWatcher } from '../ports/chat.js';
import type { QuestionKind } from './questions.js';
import { samplingQuestion, type SampledAnswer, type SamplingParams } from './sampling.js';
import { addUsage, type ChatSession } from './session-store.js';

/** What the answers need of the running turn: who started it, and whether they can be asked. */
export interface AnsweringTurn {
  readonly turnId: string;
  readonly abort: AbortController;
  /** Unset once the client that started the turn went away. */
  owner: ChatWatcher | undefined;
  ownerCanApprove: boolean;
}

export interface TurnAnswersDeps {
  turn: AnsweringTurn;
  session: ChatSession;
  tool: string;
  rule: SamplingRule;
  log: Logger;
  ask: <T>(
    kind: QuestionKind,
    signal: AbortSignal,
    event: (requestId: string) => Record<string, unknown> & { type: ChatEvent['type'] },
  ) => Promise<T | null>;
  sample: (
    params: SamplingParams,
    options: { server: string; model: string; signal: AbortSignal; ask: (() => Promise<ApprovalDecision | null>) | undefined },
  ) => Promise<SampledAnswer>;
  emit: (event: ChatEvent) => void;
}

export function turnAnswers({ turn, session, tool, rule, log, ask, sample, emit }: TurnAnswersDeps): ServerRequestHandler {
  const canAsk = () => turn.owner !== undefined && turn.ownerCanApprove;
  const handler: ServerRequestHandler = {
    elicit: async (params, signal, server) => {
      if (!canAsk()) {
        log.warn(`declined an elicitation of server ${server} (during ${tool}): the person who started the turn went away`);
        return { action: 'decline' };
      }
      const answer = await ask<ElicitResult>('elicitation', signal, (requestId) => ({
        type: 'elicitation_request',
        requestId,
        server,
        tool,
        message: params.message,
        requestedSchema: (params as { requestedSchema?: Record<string, unknown> }).requestedSchema ?? {},
      }));
      return answer ?? { action: 'cancel' };
    },
    sample: async (params, signal, server) => {
      const both = AbortSignal.any([signal, turn.abort.signal]);
      const key = `sampling:${server}`;
      const approval =
        canAsk() && !session.alwaysAllowed.includes(key)
          ? async () => {
              const decision = await ask<ApprovalDecision>('approval', both, () => ({
                type: 'sampling_request',
                ...samplingQuestion(server, tool, params),
              }));
              if (decision === 'always' && !session.alwaysAllowed.includes(key)) session.alwaysAllowed.push(key);
              return decision;
            }
          : session.alwaysAllowed.includes(key)
            ? async () => 'yes' as const
            : undefined;
      const answer = await sample(params, { server, model: session.model, signal: both, ask: approval });
      // Sampling is paid with the person's key: it counts in the session's usage.
      session.usage = addUsage(session.usage, answer.usage);
      emit({
        type: 'notice',
        sessionId: session.id,
        turnId: turn.turnId,
        message: `${server} sampled ${answer.result.model} (${answer.usage.inputTokens} in / ${answer.usage.outputTokens} out tokens)`,
      });
      return answer.result;
    },
  };
  if (!canAsk()) delete handler.elicit;
  if (rule === 'ask' && !canAsk() && !session.alwaysAllowed.some((k) => k.startsWith('sampling:'))) delete handler.sample;
  return handler;
}
