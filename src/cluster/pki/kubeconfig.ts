import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import { ClusterConfigError } from '../errors.js';

export interface KubeconfigSpec {
  /** cluster, user and context are all named after it (`sifkube-<cluster>` for the admin one) */
  name: string;
  user: string;
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

interface Named {
  name: string;
  [k: string]: unknown;
}

interface Kubeconfig {
  apiVersion: string;
  kind: string;
  clusters: Named[];
  users: Named[];
  contexts: Named[];
  'current-context'?: string;
  preferences?: unknown;
  [k: string]: unknown;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A kubeconfig with the credentials embedded, the form every component and kubectl read. */
export function buildKubeconfig(spec: KubeconfigSpec): Kubeconfig {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: spec.name, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } }],
    users: [{ name: spec.user, user: { 'client-certificate-data': b64(spec.certPem), 'client-key-data': b64(spec.keyPem) } }],
    contexts: [{ name: spec.name, context: { cluster: spec.name, user: spec.user } }],
    'current-context': spec.name,
    preferences: {},
  };
}

export function kubeconfigText(k: Kubeconfig): string {
  return stringify(k);
}

/** The kubeconfig kubectl uses by default: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG?.split(':').find(Boolean);
  return env ?? `${homedir()}/.kube/config`;
}

function readKubeconfig(path: string): Kubeconfig {
  if (!existsSync(path)) return { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], preferences: {} };
  let doc: Partial<Kubeconfig> | null;
  try {
    doc = parse(readFileSync(path, 'utf8')) as Partial<Kubeconfig> | null;
  } catch (err) {
    throw new ClusterConfigError(path, 'the document', `not valid YAML (${(err as Error).message.split('\n')[0]})`, 'fix or move the file, or pass another --kubeconfig');
  }
  const d = doc ?? {};
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    if (d[key] !== undefined && d[key] !== null && !Array.isArray(d[key])) {
      throw new ClusterConfigError(path, key, 'not a list', 'fix or move the file, or pass another --kubeconfig');
    }
  }
  return { ...d, apiVersion: d.apiVersion ?? 'v1', kind: d.kind ?? 'Config', clusters: d.clusters ?? [], users: d.users ?? [], contexts: d.contexts ?? [] };
}

function writeKubeconfig(path: string, k: Kubeconfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.sifkube.tmp`, stringify(k), { mode: 0o600 });
  renameSync(`${path}.sifkube.tmp`, path);
}

function replace(list: Named[], items: Named[]): Named[] {
  const names = new Set(items.map((i) => i.name));
  return [...list.filter((i) => !names.has(i.name)), ...items];
}

/** Merges `entry` into the kubeconfig at `path` (replacing entries of the same names) and makes it current, as kind does. */
export function mergeKubeconfig(path: string, entry: Kubeconfig): void {
  const k = readKubeconfig(path);
  writeKubeconfig(path, {
    ...k,
    clusters: replace(k.clusters, entry.clusters),
    users: replace(k.users, entry.users),
    contexts: replace(k.contexts, entry.contexts),
    'current-context': entry['current-context'],
  });
}

/** Removes a context and its cluster and user from the kubeconfig at `path`; false when it had none. */
export function removeFromKubeconfig(path: string, name: string): boolean {
  if (!existsSync(path)) return false;
  const k = readKubeconfig(path);
  if (!k.contexts.some((c) => c.name === name)) return false;
  const next: Kubeconfig = {
    ...k,
    clusters: k.clusters.filter((c) => c.name !== name),
    users: k.users.filter((u) => u.name !== name),
    contexts: k.contexts.filter((c) => c.name !== name),
  };
  if (next['current-context'] === name) delete next['current-context'];
  writeKubeconfig(path, next);
  return true;
}
