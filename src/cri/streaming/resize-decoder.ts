import type { Readable } from 'node:stream';
import type { TerminalResizes } from './backend.js';

/**
 * Reads the resize stream: a sequence of JSON objects {"Width":W,"Height":H} (client-go encodes one
 * per line; WebSocket clients one per message) and emits each as a size event.
 */
export function decodeResizes(stream: Readable, out: TerminalResizes): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    pending += text;
    for (;;) {
      const start = pending.indexOf('{');
      const end = pending.indexOf('}', start);
      if (start < 0 || end < 0) break;
      const raw = pending.slice(start, end + 1);
      pending = pending.slice(end + 1);
      try {
        const size = JSON.parse(raw) as { Width?: unknown; Height?: unknown };
        const width = Number(size.Width);
        const height = Number(size.Height);
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0) out.emit('size', { width, height });
      } catch {
        // A malformed size is skipped, as client-go's decoder would stop; the session goes on.
      }
    }
    if (pending.length > 4096) pending = '';
  });
  stream.on('error', () => {});
}
