/**
 * The least a Node process can do to relay a tool call the way mcpd's control socket does: a
 * WebSocket (ws) on a Unix socket in front, one MCP server on stdio behind, every message
 * JSON-parsed and re-encoded with an id of its own both ways. No routing, plugins, timeouts,
 * cancellation, limits or logs. The bench runs it beside mcpd, with the same client and server,
 * so the daemon's CPU per call has this floor to be read against. With `--ndjson` the front is
 * a plain Unix socket with one JSON message per line: the floor of any relay, WebSocket or not.
 *
 *   node bench/relay-floor.mjs [--ndjson] SOCKET_PATH SERVER_SCRIPT [ARGS...]
 * Prints `ready` once the server is initialized and the socket listens.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createSocketServer } from 'node:net';
import { WebSocketServer } from 'ws';

const ndjson = process.argv[2] === '--ndjson';
const [socketPath, ...serverCommand] = process.argv.slice(ndjson ? 3 : 2);
const server = spawn(process.execPath, serverCommand, { stdio: ['pipe', 'pipe', 'ignore'] });
const waiting = Object.create(null); // our id -> [client socket, client's id]
let nextId = 0;

function send(message) {
  server.stdin.write(`${JSON.stringify(message)}\n`);
}

/** Calls `onLine` with each line of a stream of text. */
function lines(stream, onLine) {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const all = (partial + chunk).split('\n');
    partial = all.pop();
    for (const line of all) onLine(line);
  });
}

lines(server.stdout, (line) => {
  const message = JSON.parse(line);
  const to = waiting[message.id];
  if (!to) return;
  delete waiting[message.id];
  to[0].send(JSON.stringify({ jsonrpc: '2.0', id: to[1], ...(message.error ? { error: message.error } : { result: message.result }) }));
});

/** One request from a client; `client.send` answers it. */
function onRequest(text, client) {
  const request = JSON.parse(text);
  if (request.method === 'hello') {
    client.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: request.id,
        result: { protocolVersion: 1, daemon: { version: 'floor', pid: process.pid, serverPid: server.pid } },
      }),
    );
    return;
  }
  const id = `f-${++nextId}`;
  waiting[id] = [client, request.id];
  send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: request.params.name, arguments: request.params.arguments } });
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, skipUTF8Validation: true });
const http = createServer();
http.on('upgrade', (request, socket, head) =>
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.on('message', (data) => onRequest(data.toString(), ws));
  }),
);

const initialized = new Promise((resolve) => {
  waiting['init'] = [{ send: resolve }, 0];
});
send({
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'relay-floor', version: '0' } },
});
await initialized;
send({ jsonrpc: '2.0', method: 'notifications/initialized' });
const front = ndjson
  ? createSocketServer((socket) => {
      const client = { send: (text) => socket.write(`${text}\n`) };
      lines(socket, (line) => onRequest(line, client));
    })
  : http;
front.listen(socketPath, () => console.log('ready'));
process.on('SIGTERM', () => {
  server.kill('SIGTERM');
  process.exit(0);
});
