import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's images/ folder (tests run from dist/test/...). */
export const IMAGES = new URL('../../../images/', import.meta.url).pathname;

/**
 * Photographs from Debian's python3-skimage package (scikit-image's sample data): the .deb is
 * fetched from the Debian mirror with apt-get download and the files taken out of it, into a
 * folder the caller removes. chelsea.png is a cat, motorcycle_left.png a motorcycle, astronaut.png
 * a person.
 */
export function skimagePhotos(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'sk-photos-'));
  try {
    const get = spawnSync('apt-get', ['download', 'python3-skimage'], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
    if (get.status !== 0) throw new Error(`apt-get download python3-skimage failed (run apt-get update first): ${get.stderr}`);
    const deb = join(dir, readdirSync(dir).find((f) => f.endsWith('.deb'))!);
    const members = names.map((n) => `./usr/lib/python3/dist-packages/skimage/data/${n}`);
    const x = spawnSync('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x --strip-components=7 -C "$2" "${@:3}"', 'bash', deb, dir, ...members], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`extracting ${names.join(', ')} from ${deb}: ${x.stderr}`);
    rmSync(deb);
    for (const n of names) if (!existsSync(join(dir, n))) throw new Error(`${n} is not in python3-skimage`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/** Installs an example's npm packages (its package-lock.json) where they are missing. */
export function exampleModules(example: string): void {
  const dir = join(IMAGES, example);
  if (existsSync(join(dir, 'node_modules', '.package-lock.json'))) return;
  const r = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`npm ci in ${dir}: ${r.stderr}`);
}

export interface AppServer {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `node images/SCRIPT` with `env` and waits until it prints `listening`. */
export async function startApp(script: string, env: Record<string, string>, timeoutMs = 60_000): Promise<AppServer> {
  const child = spawn(process.execPath, [join(IMAGES, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  const deadline = Date.now() + timeoutMs;
  while (!/listening/.test(out)) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${script} did not start in ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${env.PORT}`, child, output: () => out, stop };
}
