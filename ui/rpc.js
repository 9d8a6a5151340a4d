// The dashboard's live connection: the control protocol (docs/control-protocol.md) over a
// WebSocket at /ui/ws, authenticated by the dashboard's cookie. Reconnects by itself.

const PROTOCOL_VERSION = 1;
const REQUEST_TIMEOUT_MS = 120_000;

export class RpcError extends Error {
  constructor(error) {
    super(error.message);
    this.code = error.data?.code ?? String(error.code);
    // What the daemon adds (stderr tail, problems, file): shown on demand under the message.
    if (error.data?.details) this.details = error.data.details;
  }
}

/** States: connecting → open → (lost → connecting → open)… or signed-out (the cookie is no longer valid). */
export class Daemon {
  /**
   * `subscribe`: take the daemon's events (an App view's own connection may not); `check`: the
   * page whose answer tells a refused sign-in (401) or an expired App view (404) from a daemon away.
   */
  constructor(url, { subscribe = true, check = './' } = {}) {
    this.url = url;
    this.subscribe = subscribe;
    this.check = check;
    this.state = 'connecting';
    this.info = null;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();
    this.handlers = new Map();
    this.progress = new Map();
    this.attempt = 0;
    this.everOpen = false;
  }

  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event).delete(listener);
  }

  emit(event, params) {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        listener(params);
      } catch (error) {
        console.error(`listener of ${event}`, error);
      }
    }
  }

  /** Answers a request the daemon sends (call.elicit, call.sample). */
  handle(method, handler) {
    this.handlers.set(method, handler);
  }

  setState(state) {
    this.state = state;
    this.emit('state', state);
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = async () => {
      try {
        const hello = await this.request('hello', { protocolVersion: PROTOCOL_VERSION, client: 'mcpd-ui' });
        // Every event the daemon has (hello names them): the page shows them all.
        if (this.subscribe) await this.request('events.subscribe', { events: hello.events });
        const previous = this.info;
        this.info = hello.daemon;
        this.attempt = 0;
        this.setState('open');
        this.emit('open', { previous, reconnected: this.everOpen });
        this.everOpen = true;
      } catch (error) {
        console.error('hello failed', error);
        ws.close();
      }
    };
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = () => this.lost(ws);
  }

  async lost(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new RpcError({ message: 'The connection to the daemon was lost.', data: { code: 'MCPD_CONTROL_CLOSED' } }));
    }
    this.pending.clear();
    this.progress.clear();
    // A refused cookie (a new key, or another machine's) will not fix itself: say so, stop trying.
    const check = await fetch(this.check, { method: 'HEAD', cache: 'no-store' }).catch(() => null);
    if (check && (check.status === 401 || check.status === 404)) {
      this.setState(check.status === 401 ? 'signed-out' : 'expired');
      return;
    }
    this.setState('connecting');
    const delay = Math.min(250 * 2 ** this.attempt, 3_000);
    this.attempt += 1;
    setTimeout(() => this.connect(), delay);
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.method !== undefined && message.id !== undefined) return void this.answer(message);
    if (message.method !== undefined) {
      if (message.method === 'call:progress') this.progress.get(message.params.progressToken)?.(message.params);
      else this.emit(message.method, message.params);
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.error) pending.reject(new RpcError(message.error));
    else pending.resolve(message.result);
  }

  async answer(message) {
    const handler = this.handlers.get(message.method);
    let reply;
    try {
      if (!handler) throw new Error(`The dashboard does not answer ${message.method}`);
      reply = { jsonrpc: '2.0', id: message.id, result: await handler(message.params) };
    } catch (error) {
      reply = { jsonrpc: '2.0', id: message.id, error: { code: -32603, message: error.message } };
    }
    this.ws?.send(JSON.stringify(reply));
  }

  /**
   * One request. `signal` cancels it ($/cancel: a tool call is cancelled at its server);
   * `onProgress` gets the server's progress of a tools.call.
   */
  request(method, params = {}, { signal, onProgress, timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new RpcError({ message: 'Not connected to the daemon.', data: { code: 'MCPD_DAEMON_NOT_RUNNING' } }));
        return;
      }
      const id = this.nextId++;
      let token;
      if (onProgress) {
        token = `ui-${id}`;
        params = { ...params, progressToken: token };
        this.progress.set(token, onProgress);
      }
      const done = () => {
        if (token) this.progress.delete(token);
        signal?.removeEventListener('abort', abort);
      };
      const abort = () => {
        if (this.pending.has(id)) this.ws?.send(JSON.stringify({ jsonrpc: '2.0', method: '$/cancel', params: { id } }));
      };
      const timer = timeoutMs
        ? setTimeout(() => {
            this.pending.delete(id);
            done();
            reject(new RpcError({ message: `${method} got no answer within ${timeoutMs / 1000} s.`, data: { code: 'MCPD_TIMEOUT' } }));
          }, timeoutMs)
        : undefined;
      this.pending.set(id, {
        timer,
        resolve: (value) => (done(), resolve(value)),
        reject: (error) => (done(), reject(error)),
      });
      signal?.addEventListener('abort', abort, { once: true });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }
}
