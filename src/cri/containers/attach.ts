import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * A container's stdin when the config asks for one: a FIFO in its folder. Attach writes into it; a
 * holder fd (read-write, never read) keeps it open between attaches, so the container sees the end
 * of its input only when the holder goes (stdinOnce) or the container does.
 */
export function makeStdinFifo(path: string): { holder: number; reader: number } {
  execFileSync('mkfifo', ['-m', '0600', path]);
  const holder = openSync(path, 'r+');
  return { holder, reader: openSync(path, 'r') };
}

/**
 * A tty container's resize channel: a FIFO its console-relay reads "COLS ROWS" lines from. The relay
 * gets it read-write, so it never sees its end when an attached client goes.
 */
export function makeResizeFifo(path: string): number {
  execFileSync('mkfifo', ['-m', '0600', path]);
  return openSync(path, 'r+');
}

/** One record of a CRI log as the bytes the container wrote. */
export interface LogChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

const RECORD = /^\S+ (stdout|stderr) ([FP]) (.*)$/;

/**
 * Follows a CRI log from its current end (attach shows what comes next) until `done` says so, then
 * reads what is left. A rotated file (new inode, or shorter) is followed from its start.
 */
export async function followLog(path: string, onChunk: (c: LogChunk) => void, done: () => boolean, pollMs = 50): Promise<void> {
  let ino = statSync(path).ino;
  let offset = statSync(path).size;
  let partial = '';
  const buf = Buffer.alloc(65536);
  const drain = () => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    if (st.ino !== ino || st.size < offset) {
      ino = st.ino;
      offset = 0;
      partial = '';
    }
    const fd = openSync(path, 'r');
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, offset)) > 0; offset += n) partial += buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = RECORD.exec(line);
      if (m) onChunk({ stream: m[1] as LogChunk['stream'], data: Buffer.from(m[2] === 'F' ? `${m[3]}\n` : m[3]) });
    }
  };
  for (;;) {
    const last = done();
    drain();
    if (last) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
