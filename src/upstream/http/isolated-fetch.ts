/**
 * A fetch for the SDK's HTTP client transports that gives each request its own AbortSignal.
 *
 * The SDK passes one connection-wide signal to every fetch, and Node's fetch (undici) adds an
 * abort listener to the signal it is given on each request and drops it only when the signal
 * aborts or is collected: a long-lived connection to a remote server gathers one listener per
 * call, without bound (MaxListenersExceededWarning, memory, slower calls). Here the connection's
 * signal gets one listener per request *in flight*, removed when the response has been read to
 * its end (or cancelled, or failed); aborting the connection still aborts every request and
 * every open stream.
 */
import { setMaxListeners } from 'node:events';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

const MAX_IN_FLIGHT = 4096;
const raised = new WeakSet<AbortSignal>();

export function abortIsolatingFetch(base: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const parent = init?.signal;
    if (!parent || parent.aborted) return base(url, init);
    const own = new AbortController();
    // One listener per request in flight is the design, not a leak: many calls at once may be
    // in flight on one connection (Node warns past 10).
    if (!raised.has(parent)) {
      setMaxListeners(MAX_IN_FLIGHT, parent);
      raised.add(parent);
    }
    const onAbort = () => own.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      parent.removeEventListener('abort', onAbort);
    };
    let response: Response;
    try {
      response = await base(url, { ...init, signal: own.signal });
    } catch (error) {
      release();
      throw error;
    }
    if (!response.body) {
      release();
      return response;
    }
    const contentType = response.headers.get('content-type') ?? '';
    if (!contentType.includes('text/event-stream')) {
      // A whole answer (JSON, an error page): read it while still abortable, then let go.
      try {
        const body = await response.arrayBuffer();
        return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
      } finally {
        release();
      }
    }
    // A stream stays abortable until it ends or its reader cancels it.
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            release();
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          release();
          controller.error(error);
        }
      },
      cancel(reason) {
        release();
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
