import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, renameSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CriRequestError, ImageStore, parseReference, taggedName, type ImageRecord } from '../cri/index.js';
import { parseKeyring, readImageConfig, readSif, unsignedReason, unsignedRefusal } from '../sif/index.js';
import { ImageLoadError, UnknownNodeError } from './errors.js';
import { clusterImageDir } from './node/cri.js';
import type { ClusterState } from './state/store.js';

/** Opens the cluster's shared image store (the one every node's CRI server reads). */
function openStore<T>(state: ClusterState, fn: (store: ImageStore) => T): T {
  const store = new ImageStore(clusterImageDir(state.plan));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The name a pod uses for a loaded SIF: --tag, else the file's name with `:latest`, normalized as the CRI does. */
function imageName(file: string, tag: string | undefined): string {
  const wanted = tag ?? `${basename(file, '.sif').toLowerCase().replace(/[^a-z0-9._-]/g, '-')}:latest`;
  try {
    return taggedName(parseReference(wanted, '--tag')) ?? wanted;
  } catch (err) {
    if (err instanceof CriRequestError) throw new ImageLoadError(file, `${wanted} is not an image name (${err.message})`, 'pass --tag NAME:TAG');
    throw err;
  }
}

/** Checks `--nodes` names against the cluster's nodes (before anything is loaded). */
export function checkImageNodes(state: ClusterState, nodes: string[]): void {
  const known = state.plan.nodes.map((n) => n.name);
  const unknown = nodes.find((n) => !known.includes(n));
  if (unknown !== undefined) throw new UnknownNodeError(state.plan.name, unknown, known);
}

/**
 * `sifkube image load`: copies a SIF once into the cluster's content-addressed store (sif/<sha256>.sif)
 * and tags it there; every node's CRI server sees it at once, with no copy per node. With `nodes`,
 * only those nodes' CRI servers see it (the store records it; still one copy).
 */
export async function loadImage(state: ClusterState, file: string, tag?: string, nodes?: string[]): Promise<ImageRecord> {
  if (nodes) checkImageNodes(state, nodes);
  if (!existsSync(file) || !statSync(file).isFile()) throw new ImageLoadError(file, 'no such file', 'pass the path of a .sif file');
  try {
    readSif(file);
  } catch (err) {
    throw new ImageLoadError(file, `not a SIF image (${(err as Error).message})`, 'build one with `sifkube sif create`');
  }
  if (state.plan.requireSigned) {
    const reason = await unsignedReason(file, await parseKeyring(state.plan.requireSigned.keyring, state.plan.requireSigned.source));
    // The same refusal the nodes' CRI would give at container creation, before anything is copied.
    const refusal = reason && unsignedRefusal(reason, file);
    if (refusal) throw new ImageLoadError(file, refusal.problem, refusal.fix);
  }
  const name = imageName(file, tag);
  const id = `sha256:${await sha256(file)}`;
  const c = readImageConfig(file);
  return openStore(state, (store) => {
    const dest = store.sifPath(id);
    if (!existsSync(dest)) {
      const tmp = `${dest}.${process.pid}.load`;
      copyFileSync(file, tmp);
      renameSync(tmp, dest);
    }
    const config = { architecture: 'amd64', os: 'linux', config: { Entrypoint: c?.entrypoint, Cmd: c?.cmd, Env: c?.env, User: c?.user, WorkingDir: c?.workingDir } };
    return store.put(store.byId(id) ?? { id, repoTags: [], repoDigests: [], size: statSync(dest).size, sif: dest, config, external: false }, [name], [], nodes);
  });
}

/** The images of the cluster's shared store. */
export function listImages(state: ClusterState): ImageRecord[] {
  return openStore(state, (store) => store.list());
}
