import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { Duplex } from 'node:stream';
import { AuthorityRewriter } from './http2-authority.js';

/** A gRPC server listening on a unix socket. */
export interface UnixGrpcListener {
  socket: string;
  /** Stops accepting connections and removes the socket; grpc-js's own shutdown ends the sessions. */
  close(): void;
}

export class SocketPathError extends Error {}

/**
 * Serves `server` on the unix socket `path` for every gRPC client, Go clients that send the socket
 * path as `:authority` included: each accepted connection goes through an AuthorityRewriter before
 * grpc-js sees it. A stale socket left by a dead server is replaced; any other file there is refused.
 */
export async function listenUnix(server: Server, path: string): Promise<UnixGrpcListener> {
  if (existsSync(path)) {
    if (!lstatSync(path).isSocket()) throw new SocketPathError(`${path} exists and is not a socket: choose another socket path`);
    rmSync(path);
  }
  mkdirSync(dirname(path), { recursive: true });
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  const listener = createServer((conn) => injector.injectConnection(new AuthorityFixingSocket(conn)));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (err) => reject(new SocketPathError(`cannot listen on ${path}: ${err.message}`)));
    listener.listen(path, () => resolve());
  });
  return {
    socket: path,
    close: () => {
      listener.close();
      rmSync(path, { force: true });
    },
  };
}

/** The accepted socket as grpc-js sees it: client bytes rewritten, server bytes untouched. */
class AuthorityFixingSocket extends Duplex {
  private readonly rewriter = new AuthorityRewriter();

  constructor(private readonly conn: Socket) {
    super();
    conn.on('data', (chunk: Buffer) => {
      let pieces: Buffer[];
      try {
        pieces = this.rewriter.push(chunk);
      } catch (err) {
        // A client that breaks HTTP/2 framing or HPACK loses its connection, as nghttp2 would drop it.
        this.destroy(err as Error);
        return;
      }
      let more = true;
      for (const p of pieces) more = this.push(p) && more;
      if (!more) conn.pause();
    });
    conn.on('end', () => this.push(null));
    conn.on('error', (err) => this.destroy(err));
    conn.on('close', () => this.destroy());
  }

  override _read(): void {
    this.conn.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.conn.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.conn.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.conn.destroy();
    done(err);
  }
}
