/**
 * Between node:http and the web-standard Request/Response the v2 SDK's handlers take: the request
 * as the front already read and vetted it (the body parsed, so it is not read twice), and the
 * response streamed back with backpressure, cancelled when the client goes away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';

/** The request as a web Request; `signal` aborts when the client closes the connection. */
export function webRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
    method: req.method ?? 'GET',
    headers,
    signal,
  });
}

/** Writes a web Response to the client, chunk by chunk as the client reads. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const gone = () => void reader.cancel().catch(() => undefined);
  res.once('close', gone);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (res.destroyed) break;
    }
  } catch {
    // the stream ended early (client gone, handler closed): nothing more to send
  } finally {
    res.off('close', gone);
    if (!res.destroyed) res.end();
  }
}
