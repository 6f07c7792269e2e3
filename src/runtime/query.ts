import { existsSync } from 'node:fs';
import type { Spec } from './spec/types.js';
import { DEFAULT_ROOT, listIds, readExit, readRecord, readSpec, statusOf, type ExitStatus, type Status } from './state.js';
import { OCI_VERSION } from './version.js';

/** The runtime-spec state of a container (runc's `state` output), plus its exit status once known. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** Not in runc's output: how the process ended (the CRI reports it). */
  exit?: ExitStatus;
}

export function containerState(id: string, opts: { root?: string } = {}): ContainerState {
  const root = opts.root ?? DEFAULT_ROOT;
  const rec = readRecord(root, id);
  const status = statusOf(root, rec);
  const out: ContainerState = {
    ociVersion: OCI_VERSION,
    id,
    pid: status === 'stopped' ? 0 : rec.initPid ?? 0,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length > 0) out.annotations = rec.annotations;
  if (status === 'stopped') out.exit = readExit(root, id);
  return out;
}

/** Every container under the root, as `list` shows them. */
export function listContainers(opts: { root?: string } = {}): ContainerState[] {
  const root = opts.root ?? DEFAULT_ROOT;
  if (!existsSync(root)) return [];
  return listIds(root).flatMap((id) => {
    try {
      return [containerState(id, { root })];
    } catch {
      return [];
    }
  });
}

/** The config a container was created with. */
export function containerSpec(id: string, opts: { root?: string } = {}): Spec {
  const root = opts.root ?? DEFAULT_ROOT;
  readRecord(root, id);
  return readSpec(root, id);
}
