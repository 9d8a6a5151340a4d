/**
 * Who may come in at each listener (src/fronts/door.ts): one row per request and listener, with
 * the answer the door gives. The fronts' own tests check the same doors through real sockets.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { DOORS, listenerNames, refusal, type DoorPolicy } from '../../src/fronts/door.js';

const TOKEN = 'a-token-of-at-least-16-chars';
const PORT = 4000;

/** The policies the fronts use. */
const POLICIES: Record<string, DoorPolicy> = {
  'control socket': DOORS.control,
  'bridge socket': DOORS.mcpSocket,
  'gateway on loopback': DOORS.gateway('127.0.0.1', PORT, undefined, true),
  'gateway off loopback': DOORS.gateway('0.0.0.0', PORT, TOKEN, false),
  dashboard: DOORS.dashboard(PORT, false),
  'dashboard live connection': DOORS.dashboard(PORT, true),
};

const bearer = { authorization: `Bearer ${TOKEN}` };

/** [door, headers, expected: null (let in) or the status and a piece of the reason]. */
const CASES: [string, IncomingHttpHeaders, null | [number, string]][] = [
  ['control socket', {}, null],
  ['control socket', { host: 'localhost' }, null],
  ['control socket', { host: '127.0.0.1:9' }, null],
  ['control socket', { host: '[::1]:9' }, null],
  ['control socket', { host: 'evil.example' }, [403, 'is not loopback (DNS rebinding protection)']],
  ['control socket', { origin: 'https://evil.example' }, [403, 'requests with an Origin header are refused']],
  ['control socket', { host: 'localhost', origin: 'http://localhost' }, [403, 'Origin header']],
  ['bridge socket', { host: 'anything' }, null],
  ['bridge socket', { origin: 'null' }, [403, 'Origin header']],
  ['gateway on loopback', { host: `127.0.0.1:${PORT}` }, null],
  ['gateway on loopback', { host: `localhost:${PORT}` }, null],
  ['gateway on loopback', { host: `[::1]:${PORT}` }, null],
  ['gateway on loopback', { host: `LOCALHOST:${PORT}` }, null],
  ['gateway on loopback', { host: `evil.example:${PORT}` }, [403, 'is not this gateway (DNS rebinding protection)']],
  ['gateway on loopback', { host: `127.0.0.1:${PORT + 1}` }, [403, 'DNS rebinding']],
  ['gateway on loopback', { host: `127.0.0.1:${PORT}`, origin: `http://localhost:${PORT}` }, null],
  ['gateway on loopback', { host: `127.0.0.1:${PORT}`, origin: 'https://evil.example' }, [403, 'may not use this gateway']],
  ['gateway on loopback', { host: `127.0.0.1:${PORT}`, origin: `http://127.0.0.1:${PORT + 1}` }, [403, 'may not use this gateway']],
  ['gateway on loopback', { host: `127.0.0.1:${PORT}`, origin: 'not a url' }, [403, 'malformed Origin']],
  ['gateway off loopback', { host: `mcpd.example:${PORT}`, ...bearer }, null],
  ['gateway off loopback', { host: `mcpd.example:${PORT}` }, [401, 'send Authorization: Bearer TOKEN (gateway.http.token)']],
  ['gateway off loopback', { host: `mcpd.example:${PORT}`, authorization: 'Bearer wrong-token-wrong-token-wr' }, [401, 'Bearer']],
  ['gateway off loopback', { host: `mcpd.example:${PORT}`, authorization: TOKEN }, [401, 'Bearer']],
  ['gateway off loopback', { host: `mcpd.example:${PORT}`, origin: 'https://evil.example', ...bearer }, [403, 'may not use this gateway']],
  ['dashboard', { host: `127.0.0.1:${PORT}` }, null],
  ['dashboard', { host: `localhost:${PORT}`, origin: `http://localhost:${PORT}` }, null],
  ['dashboard', { host: `attacker.example:${PORT}` }, [403, 'is not this dashboard (DNS rebinding protection)']],
  // Another name of the same listener is not this page's origin: the Origin must be the Host's.
  ['dashboard', { host: `127.0.0.1:${PORT}`, origin: `http://localhost:${PORT}` }, [403, 'may not use this dashboard']],
  ['dashboard', { host: `127.0.0.1:${PORT}`, origin: `https://127.0.0.1:${PORT}` }, [403, 'may not use this dashboard']],
  ['dashboard', { host: `127.0.0.1:${PORT}`, origin: 'null' }, [403, 'may not use this dashboard']],
  ['dashboard live connection', { host: `127.0.0.1:${PORT}`, origin: `http://127.0.0.1:${PORT}` }, null],
  ['dashboard live connection', { host: `127.0.0.1:${PORT}` }, [403, 'no Origin header']],
];

describe('the door', () => {
  for (const [door, headers, expected] of CASES) {
    it(`${door}: ${JSON.stringify(headers)} → ${expected ? expected[0] : 'in'}`, () => {
      const refused = refusal(headers, POLICIES[door]!);
      if (expected === null) expect(refused).toBeNull();
      else {
        expect(refused?.status).toBe(expected[0]);
        expect(refused?.reason).toContain(expected[1]);
      }
    });
  }

  it('names a listener by its loopback names and its own', () => {
    expect(listenerNames('127.0.0.1', 7)).toEqual(['localhost:7', '127.0.0.1:7', '[::1]:7']);
    expect(listenerNames('::1', 7)).toEqual(['localhost:7', '127.0.0.1:7', '[::1]:7']);
    expect(listenerNames('mcpd.local', 7)).toEqual(['localhost:7', '127.0.0.1:7', '[::1]:7', 'mcpd.local:7']);
  });
});
