/**
 * `mcpd bridge [--server NAME | --profile NAME]`: an MCP server on stdin/stdout for hosts that spawn a command
 * (Claude Desktop, Claude Code, Cursor, VS Code). A thin pipe: each line from the host goes as one
 * WebSocket frame to the daemon's MCP socket, where the MCP server side lives, and back. It
 * starts the daemon when none runs. If the daemon goes away (a restart), requests in flight are
 * answered with an error, the next ones wait, the bridge reconnects and replays the host's
 * `initialize`, then tells the host every list may have changed.
 * Nothing but MCP ever goes to stdout; what the bridge has to say goes to stderr.
 */
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { McpdError } from '../../errors.js';
import { assertHomeTrusted } from '../../home/paths.js';
import { delay } from '../../util/time.js';
import type { CliContext } from '../context.js';
import { ensureDaemon } from './start.js';

const REINIT_ID = 'mcpd-bridge-reinitialize';
const RECONNECT_EVERY_MS = 100;
/** How long the daemon may be gone before the bridge starts one itself (when it has work). */
const START_DAEMON_AFTER_MS = 3_000;
const MAX_FRAME_BYTES = 256 * 1024 * 1024;
/**
 * After the host closes stdin, how long answers to what it already asked may take to go out (a
 * call's own default timeout). A host that will not wait stops the bridge with a signal.
 */
const DRAIN_MS = 60_000;

type Id = string | number;

interface Parsed {
  id?: Id;
  method?: string;
}

function parse(line: string): Parsed | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function connect(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: timeoutMs,
      generateMask: (mask: Buffer) => mask.fill(0),
    });
    ws.once('open', () => {
      ws.removeAllListeners('error');
      resolve(ws);
    });
    ws.once('error', (error: NodeJS.ErrnoException) => {
      ws.terminate();
      reject(error);
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(new McpdError('MCPD_SERVER_UNKNOWN', `mcpd refused the bridge (${res.statusCode}): ${body.trim()}`)));
    });
  });
}

export async function bridgeCommand(ctx: CliContext): Promise<number> {
  // stdout is the host's MCP channel: anything else printed there would break it.
  const say = (text: string) => process.stderr.write(`mcpd bridge: ${text}\n`);
  const { server, profile } = ctx.args;
  if (server !== undefined && profile !== undefined)
    throw new McpdError('MCPD_USAGE', 'mcpd bridge takes --server or --profile, not both.');
  const path =
    server !== undefined
      ? `/servers/${encodeURIComponent(server)}/mcp`
      : profile !== undefined
        ? `/profiles/${encodeURIComponent(profile)}/mcp`
        : '/mcp';
  const url = `ws+unix://${ctx.paths.mcpSocket}:${path}`;
  // Another user's home (or a symlink of theirs) could hold a socket that answers anything.
  assertHomeTrusted(ctx.paths);

  let ws: WebSocket | undefined;
  let initializeLine: string | undefined;
  let initializedLine: string | undefined;
  /** Requests of the host sent to the daemon and not answered yet. */
  const inFlight = new Set<Id>();
  /** What the host sent while no daemon was connected. */
  const waiting: string[] = [];
  let stdinEnded = false;
  let reconnecting = false;
  /** Told when the last answer in flight went out, or the daemon went away. */
  let onDrained: (() => void) | undefined;

  const toHost = (line: string) => process.stdout.write(`${line}\n`);
  const fail = (id: Id, message: string) => toHost(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32603, message } }));

  const attach = (socket: WebSocket, onReinitialized?: () => void) => {
    ws = socket;
    socket.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      const message = parse(text);
      if (message && message.method === undefined && message.id !== undefined) {
        if (message.id === REINIT_ID) {
          onReinitialized?.();
          return;
        }
        inFlight.delete(message.id);
      }
      toHost(text);
      if (inFlight.size === 0) onDrained?.();
    });
    socket.on('close', () => {
      if (ws !== socket) return;
      ws = undefined;
      // Answers to these will never come: the host hears so now, rather than waiting forever.
      for (const id of inFlight)
        fail(id, 'mcpd went away (its daemon stopped or restarted) while this request was in flight; it was not retried.');
      inFlight.clear();
      onDrained?.();
      if (!stdinEnded) void reconnect();
    });
    socket.on('error', () => undefined);
  };

  const forward = (line: string) => {
    const message = parse(line);
    if (message?.method === 'initialize') initializeLine = line;
    if (message?.method === 'notifications/initialized') initializedLine = line;
    if (!ws) {
      waiting.push(line);
      return;
    }
    if (message?.method !== undefined && message.id !== undefined) inFlight.add(message.id);
    ws.send(line);
  };

  const flushWaiting = () => {
    for (const line of waiting.splice(0)) forward(line);
  };

  const reconnect = async (): Promise<void> => {
    if (reconnecting) return;
    reconnecting = true;
    const since = Date.now();
    say('the daemon went away; reconnecting');
    try {
      while (!stdinEnded) {
        let socket: WebSocket;
        try {
          socket = await connect(url, 2_000);
        } catch (error) {
          // Gone for a while and the host wants something: start a daemon, as at the start.
          if (Date.now() - since > START_DAEMON_AFTER_MS && waiting.length > 0) {
            await ensureDaemon(ctx).catch((e: unknown) => say(`could not start the daemon: ${(e as Error).message}`));
          } else if (error instanceof McpdError) {
            say(error.message);
          }
          await delay(RECONNECT_EVERY_MS);
          continue;
        }
        if (initializeLine) {
          // The host initialized the old session; the new one is initialized on its behalf.
          const replay = { ...(JSON.parse(initializeLine) as Record<string, unknown>), id: REINIT_ID };
          await new Promise<void>((resolve) => {
            attach(socket, resolve);
            socket.send(JSON.stringify(replay));
          });
          if (initializedLine) socket.send(initializedLine);
        } else {
          attach(socket);
        }
        flushWaiting();
        // Whatever the host listed before may have changed under it.
        for (const method of [
          'notifications/tools/list_changed',
          'notifications/resources/list_changed',
          'notifications/prompts/list_changed',
        ]) {
          toHost(JSON.stringify({ jsonrpc: '2.0', method }));
        }
        say('reconnected');
        return;
      }
    } finally {
      reconnecting = false;
    }
  };

  // First connection: the daemon that runs, or one we start.
  try {
    attach(await connect(url, 2_000));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw error;
    say(`no daemon runs for ${ctx.paths.home}; starting one`);
    await ensureDaemon(ctx);
    attach(await connect(url, 5_000));
  }

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() !== '') forward(line);
  });
  await new Promise<void>((resolve) => lines.once('close', resolve));
  stdinEnded = true;
  // What the host asked before it closed stdin is still answered (`printf REQUEST | mcpd bridge`).
  if (ws && inFlight.size > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, DRAIN_MS);
      onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  for (const line of waiting.splice(0)) {
    const id = parse(line)?.id;
    if (id !== undefined && parse(line)?.method !== undefined)
      fail(id, 'mcpd could not reach its daemon before the host closed stdin; the request was not sent.');
  }
  for (const id of inFlight) fail(id, `no answer came within ${DRAIN_MS / 1000} s of the host closing stdin.`);
  ws?.close(1000, 'host closed stdin');
  return 0;
}
