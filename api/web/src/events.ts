// Live queue updates: the SSE route read with fetch and a stream reader (EventSource cannot send the
// Authorization header). Reconnects with backoff; the caller sees the connection state.
import { session } from './api.js';

export interface QueueEvent { type: string; scanId?: string; state?: string }
export type LiveState = 'live' | 'connecting' | 'offline';

export function followQueueEvents(onEvent: (e: QueueEvent) => void, onState: (s: LiveState) => void): () => void {
  const stop = new AbortController();
  let backoff = 1000;

  async function connect(): Promise<void> {
    while (!stop.signal.aborted && session.token) {
      onState('connecting');
      try {
        const res = await fetch('/v1/review/events', { headers: { authorization: `Bearer ${session.token}`, accept: 'text/event-stream' }, signal: stop.signal });
        if (!res.ok || !res.body) throw new Error(`events answered ${res.status}`);
        onState('live');
        backoff = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
            if (!data) continue;
            try {
              onEvent(JSON.parse(data) as QueueEvent);
            } catch {
              /* a malformed event is skipped; the next refresh catches up */
            }
          }
        }
      } catch {
        if (stop.signal.aborted) return;
      }
      onState('offline');
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(15_000, backoff * 2);
    }
  }
  void connect();
  return () => stop.abort();
}
