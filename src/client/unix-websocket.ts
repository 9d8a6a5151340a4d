/**
 * The client end of a WebSocket over a Unix domain socket, for the control socket only: what
 * the one-shot CLI needs and nothing more. The `ws` package, with the TLS, HTTP, zlib and crypto
 * modules it loads, was about half of what a one-shot command cost over a bare node (~20 ms).
 * RFC 6455 as the daemon speaks it: no extensions, text frames, fragmented messages joined,
 * pings answered, close handshake. Client frames carry an all-zero mask: a Unix socket has no
 * proxy that masking protects against. The handshake key need not be secret here; the daemon's
 * `ws` checks the rest.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

interface Events {
  open: [];
  message: [Buffer];
  error: [Error];
  close: [number, Buffer];
}

function handshakeKey(): string {
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  return bytes.toString('base64');
}

/** One frame from the client: FIN, the opcode, the mask bit with an all-zero mask, the payload. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else if (length < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(length), 2);
  }
  out.writeUInt32BE(0, head); // the mask
  payload.copy(out, head + 4);
  return out;
}

export class UnixWebSocket extends EventEmitter<Events> {
  static readonly CLOSED = CLOSED;
  readyState = CONNECTING;
  private readonly socket: Socket;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Fragments of a message split over several frames. */
  private fragments: Buffer[] = [];
  private closeCode = 1006;
  private closeReason = Buffer.alloc(0);
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly maxPayload: number;

  constructor(socketPath: string, options: { handshakeTimeoutMs: number; maxPayload: number }) {
    super();
    this.maxPayload = options.maxPayload;
    this.socket = connect({ path: socketPath });
    this.handshakeTimer = setTimeout(() => this.fail(new Error('Opening handshake has timed out')), options.handshakeTimeoutMs);
    this.socket.once('connect', () => {
      this.socket.write(
        `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${handshakeKey()}\r\n\r\n`,
      );
    });
    this.socket.on('data', (chunk) => this.receive(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.once('close', () => {
      clearTimeout(this.handshakeTimer);
      const wasOpen = this.readyState !== CONNECTING;
      this.readyState = CLOSED;
      if (wasOpen) this.emit('close', this.closeCode, this.closeReason);
    });
  }

  send(text: string): void {
    if (this.readyState !== OPEN) return;
    this.socket.write(frame(0x1, Buffer.from(text)));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === CLOSED || this.readyState === CLOSING) return;
    if (this.readyState === CONNECTING) return this.terminate();
    this.readyState = CLOSING;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.socket.write(frame(0x8, payload));
    // The daemon answers the close and ends the connection; one that does not is cut off.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  terminate(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    clearTimeout(this.handshakeTimer);
    if (this.readyState === CONNECTING) this.emit('error', error);
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.readyState === CONNECTING) {
      const head = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        this.pending = [head];
        return;
      }
      const status = head.toString('latin1', 0, head.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        this.fail(new Error(`Unexpected server response: ${status.split(' ')[1] ?? status}`));
        return;
      }
      clearTimeout(this.handshakeTimer);
      this.readyState = OPEN;
      const rest = head.subarray(end + 4);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      this.emit('open');
    }
    this.readFrames();
  }

  /** Takes every whole frame from what has arrived; a frame's bytes are joined once, when all are in. */
  private readFrames(): void {
    while (this.pendingBytes >= 2 && this.readyState !== CLOSED) {
      const first = this.pending[0]!;
      const head = first.length >= 14 || this.pending.length === 1 ? first : Buffer.concat(this.pending, Math.min(14, this.pendingBytes));
      const fin = (head[0]! & 0x80) !== 0;
      const opcode = head[0]! & 0x0f;
      let length = head[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (head.length < 4) return;
        length = head.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (head.length < 10) return;
        length = Number(head.readBigUInt64BE(2));
        offset = 10;
      }
      if ((head[1]! & 0x80) !== 0) offset += 4; // a server never masks; skip one if it did
      if (length > this.maxPayload) {
        this.fail(new Error(`Max payload size exceeded (${length} bytes)`));
        return;
      }
      if (this.pendingBytes < offset + length) return; // the rest of the frame is still coming
      const data = this.pending.length === 1 ? first : Buffer.concat(this.pending, this.pendingBytes);
      const payload = data.subarray(offset, offset + length);
      const rest = data.subarray(offset + length);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      this.onFrame(fin, opcode, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 0x8) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeReason = Buffer.from(payload.subarray(2));
      if (this.readyState === OPEN) {
        this.readyState = CLOSING;
        this.socket.write(frame(0x8, payload.subarray(0, 2)));
      }
      this.socket.end();
      return;
    }
    if (opcode === 0x9) {
      this.socket.write(frame(0xa, payload));
      return;
    }
    if (opcode === 0xa) return;
    // Text, binary, or a continuation: a message is whole at its FIN frame.
    this.fragments.push(payload);
    if (!fin) return;
    const message = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
    this.fragments = [];
    this.emit('message', message);
  }
}
