import type { Readable, Writable } from 'node:stream';
import { TerminalResizes, type StreamingBackend, type TerminalSize } from './backend.js';
import { decodeResizes } from './resize-decoder.js';
import type { AttachRequest, ExecRequest } from './requests.js';
import { encodeStatus, internalError, nonZeroExit, success, type Status } from './status.js';

/** The streams of one exec/attach session, whatever the transport (SPDY or WebSocket). */
export interface SessionChannels {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  resize?: Readable;
  /** v4+ writes metav1.Status as JSON; older protocols a bare message. */
  jsonStatus: boolean;
  writeError(data: Buffer): Promise<void>;
  /** Closes the connection once written data is flushed. */
  close(): void;
  /** Aborted when the client went away. */
  gone: AbortSignal;
}

function ending(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    w.once('finish', resolve);
    w.once('close', resolve);
    w.once('error', () => resolve());
    w.end();
  });
}

/**
 * Clients send their terminal's size right after opening the streams; waiting a moment for it starts
 * the command at the right size instead of resizing it just after it started (a race it can lose).
 */
function firstSize(resize: TerminalResizes, waitMs = 1000): Promise<TerminalSize | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resize.off('size', got);
      resolve(undefined);
    }, waitMs);
    const got = (s: TerminalSize) => {
      clearTimeout(timer);
      resolve(s);
    };
    resize.once('size', got);
  });
}

/** Runs an exec or attach through the backend, then reports its status and closes the session. */
export async function runSession(backend: StreamingBackend, kind: 'exec' | 'attach', req: ExecRequest | AttachRequest, ch: SessionChannels): Promise<void> {
  let resize: TerminalResizes | undefined;
  let size: TerminalSize | undefined;
  if (ch.resize && req.tty) {
    resize = new TerminalResizes();
    decodeResizes(ch.resize, resize);
    size = await firstSize(resize);
  } else {
    ch.resize?.resume();
  }
  const io = { stdin: ch.stdin, stdout: ch.stdout, stderr: req.tty ? undefined : ch.stderr, tty: req.tty, resize, size, signal: ch.gone };
  let status: Status;
  try {
    if (kind === 'exec') {
      const cmd = (req as ExecRequest).cmd;
      const code = await backend.exec(req.containerId, cmd, io);
      status = code === 0 ? success() : nonZeroExit(cmd, code);
    } else {
      await backend.attach(req.containerId, io);
      status = success();
    }
  } catch (err) {
    status = internalError(err);
  }
  if (ch.gone.aborted) {
    ch.close();
    return;
  }
  await Promise.all([ending(ch.stdout), ending(ch.stderr)]);
  const bytes = encodeStatus(status, ch.jsonStatus);
  if (bytes.length > 0) await ch.writeError(bytes);
  ch.close();
}
