import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

/** A folder whose owner left no beacon (it never listened) and is untouched this long is worth nothing. */
const STALE_MS = 24 * 3600_000;
const BEACON = 'live';

/**
 * The folder this process pulls in, one under `root` per process (several share a store), with a
 * unix socket in it as a beacon: another process sees this one is alive by connecting to it, whatever
 * PID namespace each runs in, and a folder whose beacon refuses is a dead process's, to be discarded
 * with its half-written blobs and its pins.
 */
export class WorkDirs {
  readonly own: string;
  private readonly beacon: Server;

  constructor(readonly root: string) {
    this.own = join(root, randomBytes(6).toString('hex'));
    mkdirSync(this.own, { recursive: true });
    this.beacon = createServer((s) => s.destroy());
    // A beacon that cannot listen (a path too long for a socket) leaves the folder to the age rule.
    this.beacon.on('error', () => undefined);
    this.beacon.listen(join(this.own, BEACON));
    this.beacon.unref();
  }

  /** Every process's folder, this one's included. */
  all(): string[] {
    try {
      return readdirSync(this.root).map((e) => join(this.root, e));
    } catch {
      return [];
    }
  }

  /** Removes the folders of processes that are gone; returns how many. */
  async discardDead(): Promise<number> {
    const others = this.all().filter((d) => d !== this.own);
    const dead = (await Promise.all(others.map(async (d) => ((await isDead(d)) ? d : undefined)))).filter((d): d is string => d !== undefined);
    for (const d of dead) rmSync(d, { recursive: true, force: true });
    return dead.length;
  }

  close(): void {
    this.beacon.close();
    rmSync(this.own, { recursive: true, force: true });
  }
}

async function isDead(dir: string): Promise<boolean> {
  const sock = join(dir, BEACON);
  if (!existsSync(sock)) {
    try {
      return Date.now() - statSync(dir).mtimeMs > STALE_MS;
    } catch {
      return false;
    }
  }
  return new Promise((resolve) => {
    const c = connect(sock);
    c.on('connect', () => {
      c.destroy();
      resolve(false);
    });
    // Refused: nobody listens, its process is gone. Any other failure: not sure, so alive.
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}
