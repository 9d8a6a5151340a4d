#!/usr/bin/env node
/**
 * The adapter the official conformance suite runs for its client scenarios
 * (`conformance client --command "node test/conformance/client.mjs" --requirements REV`): it gets
 * the URL of the scenario's MCP server and puts mcpd in front of it, as a person would — the URL
 * as a remote server in a config, the daemon started, `mcpd auth`'s sign-in when the server asks
 * for one — and then does what the scenario asks of a client through mcpd's control socket: list
 * the tools, call them (with the scenario's arguments when it gives them), answer what the server
 * asks during a call. Every step goes through a real daemon (dist/), in a home of its own; the
 * protocol with the server (its era, headers, input-required rounds, OAuth) is mcpd's own.
 * Exits 0 when the scenario's calls went through.
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
const dir = mkdtempSync(join(tmpdir(), 'mcpd-conformance-client-'));
const home = join(dir, 'home');
const config = join(dir, 'mcp.config.json');

const oauth = {
  // A client ID metadata document, used when the authorization server supports them (SEP-991).
  clientMetadataUrl: 'https://conformance-test.local/client-metadata.json',
  ...(context.client_id ? { clientId: context.client_id } : {}),
  ...(context.client_secret ? { clientSecret: context.client_secret } : {}),
};
writeFileSync(config, JSON.stringify({ servers: { conf: { url: serverUrl, oauth, restart: { initialDelayMs: 100, maxDelayMs: 200 } } } }));

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const log = (...args) => console.error('[mcpd conformance client]', ...args);
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

/** Until the server is past starting and backoff: up to 60 s (a loaded machine's start with a sign-in can take 10). */
async function untilSettled(client) {
  for (let i = 0; i < 600; i += 1) {
    const s = await serverState(client);
    if (!['starting', 'backoff'].includes(s.state)) return s;
    await sleep(100);
  }
  return serverState(client);
}

/** The tool mcpd lists for the server's `name`. */
function named(tools, name) {
  const tool = tools.find((t) => t.originalName === name);
  if (!tool) throw new Error(`mcpd does not list the server's tool ${name}`);
  return tool;
}

/**
 * One call through mcpd; a call may need a wider scope (step-up): sign in again, once per scope,
 * and retry. With `canElicit`, what the server asks during the call comes to this client (call.elicit).
 */
async function call(client, tool, args = {}, canElicit = false) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await client.request(
        'tools.call',
        { name: tool.name, arguments: args, ...(canElicit ? { canElicit } : {}) },
        { timeoutMs: 20_000 },
      );
      log('called', tool.name, JSON.stringify(result).slice(0, 200));
      return result;
    } catch (error) {
      if (attempt >= 2 || !/needs authorization/.test(String(error?.message))) throw error;
      log('the call needs a new sign-in:', error.message);
      await untilSettled(client);
      await signIn(client);
      await untilSettled(client);
    }
  }
}

/** What most scenarios ask: list, then call one tool (the auth scenarios' test-tool, or the first). */
async function plainCall(client, tools) {
  const tool = tools.find((t) => t.originalName === 'test-tool') ?? tools[0];
  if (!tool) return;
  await call(client, tool, scenario === 'tools_call' ? { a: 2, b: 3 } : {});
}

/** The calls the scenario names in its context, each with its arguments (tools mcpd lists). */
async function contextCalls(client, tools) {
  for (const wanted of context.toolCalls ?? []) {
    const tool = tools.find((t) => t.originalName === wanted.name);
    if (!tool) {
      log('not listed by mcpd, so not called:', wanted.name);
      continue;
    }
    await call(client, tool, wanted.arguments ?? {});
  }
}

/** The person accepts the server's form with `content`. */
const accept = (content) => async () => ({ action: 'accept', content });

const PLANS = {
  // The server asks during the call; the person's answer leaves every field out (SEP-1034: mcpd
  // fills in the schema's defaults).
  'elicitation-sep1034-client-defaults': async (client, tools) => {
    client.handle('call.elicit', accept({}));
    await call(client, named(tools, 'test_client_elicitation_defaults'), {}, true);
  },
  // Input-required rounds (SEP-2322): mcpd answers them with what the person answers, and keeps
  // each call's state to itself.
  'sep-2322-client-request-state': async (client, tools) => {
    client.handle('call.elicit', accept({ confirmed: true }));
    for (const name of ['test_mrtr_echo_state', 'test_mrtr_unrelated', 'test_mrtr_no_state', 'test_mrtr_no_result_type']) {
      const tool = tools.find((t) => t.originalName === name);
      if (tool) await call(client, tool, {}, true);
    }
  },
  'http-custom-headers': contextCalls,
  // Every tool mcpd lists is called: the ones with invalid x-mcp-header declarations must not be among them.
  'http-invalid-tool-headers': async (client, tools) => {
    for (const tool of tools) await call(client, tool, {});
  },
  // The schema as mcpd lists it goes back to the server verbatim: nothing stripped on the way.
  'json-schema-2020-12-preservation': async (client, tools) => {
    const focal = named(tools, 'json_schema_2020_12_tool');
    await call(client, named(tools, 'json_schema_echo'), { schema: focal.inputSchema });
  },
  // Only a list: the schema's remote $ref is never fetched.
  'json-schema-ref-no-deref': async () => undefined,
};

/**
 * Extensions where a machine signs itself in (client credentials, workload identity, DPoP,
 * enterprise-managed authorization): mcpd signs a person in, so these are said and not tried.
 */
const MACHINE_SIGN_IN = /^auth\/(client-credentials|wif-|dpop|enterprise-managed)/;
if (MACHINE_SIGN_IN.test(scenario)) {
  log(`${scenario}: not supported (mcpd signs a person in, in a browser, not a machine)`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
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
  await (PLANS[scenario] ?? plainCall)(client, tools);
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
