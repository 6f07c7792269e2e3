import { MS } from './constants.js';

/** A config.json mount's options, split the way mount(2) wants them. */
export interface MountOptions {
  /** Flags for the mount itself (and for the read-only/nosuid remount of a bind). */
  flags: number;
  /** Whether the flags ask for anything a bind mount can only get by a remount. */
  remount: boolean;
  bind: boolean;
  recursive: boolean;
  /** idmap or ridmap (or mappings, which imply idmap): an idmapped bind mount. */
  idmap: boolean;
  /** ridmap: the mapping applies to the submounts of an rbind too. */
  recursiveIdmap: boolean;
  /** Propagation flags (MS_SHARED...), applied by a separate mount call. */
  propagation: number[];
  /** Filesystem-specific options, passed as mount(2)'s data. */
  data: string[];
}

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS, mand: MS.MANDLOCK,
  dirsync: MS.DIRSYNC, nosymfollow: MS.NOSYMFOLLOW, noatime: MS.NOATIME, nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME, strictatime: MS.STRICTATIME, lazytime: MS.LAZYTIME, silent: MS.SILENT,
};
/** Options that only clear a flag (the default), as runc accepts them. */
const CLEAR = new Set(['rw', 'suid', 'dev', 'exec', 'async', 'nomand', 'atime', 'diratime', 'norelatime', 'nostrictatime', 'nolazytime', 'loud', 'symfollow', 'defaults']);
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

export function isPropagation(name: string): boolean {
  return name in PROPAGATION;
}

export function propagationFlags(name: string): number {
  return PROPAGATION[name];
}

export function parseMountOptions(options: string[] = [], type?: string, mapped = false): MountOptions {
  const out: MountOptions = { flags: 0, remount: false, bind: type === 'bind', recursive: false, idmap: mapped, recursiveIdmap: false, propagation: [], data: [] };
  for (const o of options) {
    if (o === 'bind' || o === 'rbind') {
      out.bind = true;
      out.recursive ||= o === 'rbind';
    } else if (o === 'idmap' || o === 'ridmap') {
      out.idmap = true;
      out.recursiveIdmap ||= o === 'ridmap';
    } else if (o in SET) {
      out.flags |= SET[o];
    } else if (CLEAR.has(o)) {
      continue;
    } else if (o in PROPAGATION) {
      out.propagation.push(PROPAGATION[o]);
    } else {
      out.data.push(o);
    }
  }
  out.remount = out.bind && out.flags !== 0;
  return out;
}
