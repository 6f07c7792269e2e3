import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CriConfigError } from './errors.js';
import { LOG_LEVELS, type LogLevel } from './log.js';

/** Credentials for one registry host. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** A bearer token sent as is. */
  token?: string;
}

/** What sifkube's CRI server needs to know, from its YAML file (every key optional). */
export interface CriConfig {
  /** Records of pods and containers: they survive a restart of the server. */
  stateDir: string;
  /** Runtime objects that die with the machine: network namespace bind mounts, sockets. */
  runDir: string;
  /** The image store: SIF files by digest and the tag index. */
  imageDir: string;
  /** Set when several servers share imageDir (a cluster's nodes): this one sees the images of this scope. */
  imageScope?: string;
  cni: {
    binDir: string;
    confDir: string;
    /** When set, UpdateRuntimeConfig writes a bridge conflist for the pod CIDR the kubelet sends. */
    writeConfig?: { name: string; bridge: string };
  };
  registry: {
    /** Registry host → mirror endpoints (URLs, tried in order before the host itself). */
    mirrors: Record<string, string[]>;
    /** Registry host → credentials used when the request carries none. */
    auths: Record<string, RegistryAuth>;
    /** Registry hosts (HOST or HOST:PORT) served over plain HTTP; loopback hosts always are. */
    plainHttp: string[];
  };
  streaming: { address: string };
  /** What a container with no seccomp profile (and not privileged) gets. */
  seccompDefault: 'runtime-default' | 'unconfined';
  /** The cgroup of the containers of a pod that names no cgroup parent (the kubelet always names one). */
  cgroupParent: string;
  logLevel: LogLevel;
  /** A keyring (file or folder of public keys): containers only from SIFs its keys signed. */
  requireSigned?: string;
  /**
   * The root of the NVIDIA driver tree this server's GPUs are found under (/ on a GPU host): CDI
   * requests `nvidia.com/gpu=…` resolve against it. Unset: the server has no GPU and refuses them.
   */
  gpuRoot?: string;
  /** The GPUs under gpuRoot that are this server's, by index (a cluster node's share); unset: every one. */
  gpus?: number[];
}

export const DEFAULT_CONFIG: CriConfig = {
  stateDir: '/var/lib/sifkube/cri',
  runDir: '/run/sifkube/cri',
  imageDir: '/var/lib/sifkube/images',
  cni: { binDir: '/usr/lib/cni', confDir: '/etc/cni/net.d' },
  registry: { mirrors: {}, auths: {}, plainHttp: [] },
  streaming: { address: '127.0.0.1:0' },
  // As containerd: a container whose pod names no profile runs unconfined.
  seccompDefault: 'unconfined',
  cgroupParent: '/sifkube-cri',
  logLevel: 'info',
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads one section, refusing keys it does not know (a typo must not pass silently). */
function section(file: string, where: string, value: unknown, known: string[]): Obj {
  if (value === undefined || value === null) return {};
  if (!isObj(value)) throw new CriConfigError(`${file}: ${where || 'the file'} must be a mapping of keys to values`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new CriConfigError(`${file}: unknown key ${where ? `${where}.` : ''}${key}: use one of ${known.join(', ')}`);
    }
  }
  return value;
}

function str(file: string, key: string, v: unknown, dflt: string): string {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || v === '') throw new CriConfigError(`${file}: ${key} must be a non-empty string`);
  return v;
}

function absPath(file: string, key: string, v: unknown, dflt: string): string {
  const p = str(file, key, v, dflt);
  if (!isAbsolute(p)) throw new CriConfigError(`${file}: ${key} must be an absolute path, not ${p}`);
  return p;
}

function oneOf<T extends string>(file: string, key: string, v: unknown, allowed: readonly T[], dflt: T): T {
  const s = str(file, key, v, dflt);
  if (!allowed.includes(s as T)) throw new CriConfigError(`${file}: ${key} is ${s}: use one of ${allowed.join(', ')}`);
  return s as T;
}

function mirrors(file: string, v: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (v === undefined || v === null) return out;
  if (!isObj(v)) throw new CriConfigError(`${file}: registry.mirrors must map a registry host to a list of mirror URLs`);
  for (const [host, list] of Object.entries(v)) {
    const urls = Array.isArray(list) ? list : [list];
    out[host] = urls.map((u) => {
      if (typeof u !== 'string' || !/^https?:\/\/[^/]+/.test(u)) {
        throw new CriConfigError(`${file}: registry.mirrors.${host}: ${String(u)} is not a URL: write http://HOST:PORT or https://HOST`);
      }
      return u.replace(/\/+$/, '');
    });
  }
  return out;
}

function auths(file: string, v: unknown): Record<string, RegistryAuth> {
  const out: Record<string, RegistryAuth> = {};
  if (v === undefined || v === null) return out;
  if (!isObj(v)) throw new CriConfigError(`${file}: registry.auths must map a registry host to {username, password} or {token}`);
  for (const [host, a] of Object.entries(v)) {
    const s = section(file, `registry.auths.${host}`, a, ['username', 'password', 'token']);
    const auth: RegistryAuth = {};
    if (s.username !== undefined) auth.username = str(file, `registry.auths.${host}.username`, s.username, '');
    if (s.password !== undefined) auth.password = str(file, `registry.auths.${host}.password`, s.password, '');
    if (s.token !== undefined) auth.token = str(file, `registry.auths.${host}.token`, s.token, '');
    if (!auth.token && (auth.username === undefined) !== (auth.password === undefined)) {
      throw new CriConfigError(`${file}: registry.auths.${host} needs both username and password`);
    }
    out[host] = auth;
  }
  return out;
}

function hosts(file: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(h))) {
    throw new CriConfigError(`${file}: registry.plainHttp must be a list of registry hosts (HOST or HOST:PORT, as in image names)`);
  }
  return v as string[];
}

/**
 * The `registry` section (mirrors, auths, plainHttp), of a CRI configuration or of a cluster's
 * (every node's CRI gets it).
 */
export function parseRegistryConfig(value: unknown, file: string): CriConfig['registry'] {
  const reg = section(file, 'registry', value, ['mirrors', 'auths', 'plainHttp']);
  return { mirrors: mirrors(file, reg.mirrors), auths: auths(file, reg.auths), plainHttp: hosts(file, reg.plainHttp) };
}

/** Validates a parsed configuration document. */
export function parseCriConfig(doc: unknown, file = 'the CRI configuration'): CriConfig {
  const top = section(file, '', doc, ['stateDir', 'runDir', 'imageDir', 'cni', 'registry', 'streaming', 'seccompDefault', 'cgroupParent', 'logLevel', 'requireSigned', 'gpuRoot', 'gpus']);
  const cni = section(file, 'cni', top.cni, ['binDir', 'confDir', 'writeConfig']);
  const streaming = section(file, 'streaming', top.streaming, ['address']);
  const d = DEFAULT_CONFIG;
  const config: CriConfig = {
    stateDir: absPath(file, 'stateDir', top.stateDir, d.stateDir),
    runDir: absPath(file, 'runDir', top.runDir, d.runDir),
    imageDir: absPath(file, 'imageDir', top.imageDir, d.imageDir),
    cni: {
      binDir: absPath(file, 'cni.binDir', cni.binDir, d.cni.binDir),
      confDir: absPath(file, 'cni.confDir', cni.confDir, d.cni.confDir),
    },
    registry: parseRegistryConfig(top.registry, file),
    streaming: { address: str(file, 'streaming.address', streaming.address, d.streaming.address) },
    seccompDefault: oneOf(file, 'seccompDefault', top.seccompDefault, ['runtime-default', 'unconfined'] as const, d.seccompDefault),
    cgroupParent: absPath(file, 'cgroupParent', top.cgroupParent, d.cgroupParent),
    logLevel: oneOf(file, 'logLevel', top.logLevel, LOG_LEVELS, d.logLevel),
  };
  if (top.requireSigned !== undefined) config.requireSigned = absPath(file, 'requireSigned', top.requireSigned, '');
  if (top.gpuRoot !== undefined) config.gpuRoot = absPath(file, 'gpuRoot', top.gpuRoot, '');
  if (top.gpus !== undefined) {
    if (!Array.isArray(top.gpus) || top.gpus.some((g) => !Number.isInteger(g) || (g as number) < 0)) throw new CriConfigError(`${file}: gpus must be a list of GPU indexes (the N of /dev/nvidiaN)`);
    config.gpus = top.gpus as number[];
  }
  if (cni.writeConfig !== undefined) {
    const w = section(file, 'cni.writeConfig', cni.writeConfig, ['name', 'bridge']);
    const bridge = str(file, 'cni.writeConfig.bridge', w.bridge, 'skcni0');
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) {
      throw new CriConfigError(`${file}: cni.writeConfig.bridge ${bridge} is not a valid link name (1-15 letters, digits, - _ .)`);
    }
    config.cni.writeConfig = { name: str(file, 'cni.writeConfig.name', w.name, 'sifkube'), bridge };
  }
  if (!/^[^:]*:\d+$/.test(config.streaming.address)) {
    throw new CriConfigError(`${file}: streaming.address ${config.streaming.address} must be HOST:PORT (for example 127.0.0.1:0)`);
  }
  return config;
}

/** Reads and validates the YAML file; no file means the defaults. */
export function loadCriConfig(path?: string): CriConfig {
  if (!path) return parseCriConfig({});
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CriConfigError(`cannot read the CRI configuration ${path}: ${(err as Error).message}: pass an existing YAML file to --config`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CriConfigError(`${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseCriConfig(doc, path);
}
