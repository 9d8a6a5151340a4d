#!/usr/bin/env node
/**
 * The adapter the official conformance suite runs for its client auth scenarios
 * (`conformance client --command "node test/conformance/auth-client.mjs" --suite auth`): it gets
 * the URL of a protected MCP server, and signs mcpd in to it headlessly, as a person would with
 * `mcpd auth`, then lists and calls tools through mcpd. Every step goes through a real daemon
 * (dist/), in a home of its own. Exits 0 when the tool call went through.
 *
 * The person's browser is played by following the authorization URL (the suite's authorization
 * server grants at once) and opening the redirect it answers with: the daemon's loopback callback.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ControlClient } from '../../dist/client/control-client.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/bundle/mcpd.js');
const serverUrl = process.argv.at(-1);
const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};
const dir = mkdtempSync(join(tmpdir(), 'mcpd-conformance-auth-'));
const home = join(dir, 'home');
const config = join(dir, 'mcp.config.json');

const oauth = {
  // A client ID metadata document, used when the authorization server supports them (SEP-991).
  clientMetadataUrl: 'https://conformance-test.local/client-metadata.json',
  ...(context.client_id ? { clientId: context.client_id } : {}),
  ...(context.client_secret ? { clientSecret: context.client_secret } : {}),
};
writeFileSync(config, JSON.stringify({ servers: { conf: { url: serverUrl, oauth, restart: { initialDelayMs: 100, maxDelayMs: 200 } } } }));

const log = (...args) => console.error('[mcpd auth-client]', ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function serverState(client) {
  return (await client.request('status', {})).servers.find((s) => s.name === 'conf');
}

async function signIn(client) {
  const started = await client.request('auth.login', { server: 'conf' }, { timeoutMs: 20_000 });
  if (started.signedIn) return;
  const waiting = client.request('auth.wait', { server: 'conf' }, { timeoutMs: 20_000 });
  const authorize = await fetch(started.authorizationUrl, { redirect: 'manual' });
  const location = authorize.headers.get('location');
  if (!location) throw new Error(`the authorization server answered ${authorize.status} without a redirect`);
  await fetch(location);
  const { server } = await waiting;
  log('signed in:', server.state);
}

async function untilSettled(client) {
  for (let i = 0; i < 100; i += 1) {
    const s = await serverState(client);
    if (!['starting', 'backoff'].includes(s.state)) return s;
    await sleep(100);
  }
  return serverState(client);
}

let client;
let code = 1;
try {
  execFileSync(process.execPath, [CLI, 'start', '--home', home, '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  client = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
  let state = await untilSettled(client);
  // As a person would, following what mcpd says: sign in while it asks (a listing that needs a
  // wider scope asks again, for that scope).
  for (let round = 0; state.state === 'needs-auth' && round < 3; round += 1) {
    if (round > 0) log('asked again:', state.lastError?.message);
    await signIn(client);
    state = await untilSettled(client);
  }
  if (state.state !== 'running') throw new Error(`server is ${state.state}: ${state.lastError?.message}`);
  const { tools } = await client.request('tools.list', {});
  log('tools:', tools.map((t) => t.name).join(', '));
  const tool = tools.find((t) => t.originalName === 'test-tool') ?? tools[0];
  // A call may need a wider scope (step-up): sign in again, once per scope, and retry.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await client.request('tools.call', { name: tool.name, arguments: {} }, { timeoutMs: 20_000 });
      break;
    } catch (error) {
      if (attempt >= 2 || !/needs authorization/.test(String(error?.message))) throw error;
      log('the call needs a new sign-in:', error.message);
      await untilSettled(client);
      await signIn(client);
      await untilSettled(client);
    }
  }
  log('called', tool.name);
  code = 0;
} catch (error) {
  log('failed:', error?.message ?? error);
} finally {
  client?.close();
  try {
    execFileSync(process.execPath, [CLI, 'stop', '--home', home], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
