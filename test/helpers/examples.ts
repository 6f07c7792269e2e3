import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository's images/ folder (tests run from dist/test/...). */
export const IMAGES = new URL('../../../images/', import.meta.url).pathname;

/**
 * Files from a Debian package, as the examples take them: the .deb is fetched from the Debian
 * mirror with apt-get download and `files` (name to give it → path in the package) taken out of it,
 * into `dir` or a new folder the caller removes.
 */
export function debianFiles(pkg: string, files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), 'sk-photos-'))): string {
  const work = mkdtempSync(join(dir, '.deb-'));
  try {
    const get = spawnSync('apt-get', ['download', pkg], { cwd: work, encoding: 'utf8', timeout: 180_000 });
    if (get.status !== 0) throw new Error(`apt-get download ${pkg} failed (run apt-get update first): ${get.stderr}`);
    const deb = join(work, readdirSync(work).find((f) => f.endsWith('.deb'))!);
    for (const [name, path] of Object.entries(files)) {
      const x = spawnSync('bash', ['-o', 'pipefail', '-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x -O "./$2" >"$3"', 'bash', deb, path, join(dir, name)], { encoding: 'utf8' });
      if (x.status !== 0) throw new Error(`/${path} is not in ${pkg} (${deb}): ${x.stderr}`);
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Photographs from Debian's python3-skimage package (scikit-image's sample data), into a folder the
 * caller removes: chelsea.png is a cat, motorcycle_left.png a motorcycle, astronaut.png a person.
 */
export function skimagePhotos(names: string[], dir?: string): string {
  return debianFiles('python3-skimage', Object.fromEntries(names.map((n) => [n, `usr/lib/python3/dist-packages/skimage/data/${n}`])), dir);
}

/**
 * The cats example's photographs that Debian 12 and 13 both ship with the same bytes (its
 * kitten.jpg comes from labelme-examples, which only Debian 12 has), by the names it serves them as.
 */
export function catPhotos(): string {
  const dir = skimagePhotos(['chelsea.png']);
  return debianFiles('r-cran-emayili', { 'cats-of-wikimedia-commons.jpg': 'usr/lib/R/site-library/emayili/cats.jpg' }, dir);
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
