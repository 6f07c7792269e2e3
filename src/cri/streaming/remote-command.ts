import type { Readable, Writable } from 'node:stream';
import { TerminalResizes, type StreamingBackend } from './backend.js';
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

/** Runs an exec or attach through the backend, then reports its status and closes the session. */
export async function runSession(backend: StreamingBackend, kind: 'exec' | 'attach', req: ExecRequest | AttachRequest, ch: SessionChannels): Promise<void> {
  let resize: TerminalResizes | undefined;
  if (ch.resize && req.tty) {
    resize = new TerminalResizes();
    decodeResizes(ch.resize, resize);
  } else {
    ch.resize?.resume();
  }
  const io = { stdin: ch.stdin, stdout: ch.stdout, stderr: req.tty ? undefined : ch.stderr, tty: req.tty, resize, signal: ch.gone };
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
