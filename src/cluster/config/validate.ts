import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { readKeyring } from '../../sif/index.js';
import { DEFAULT_GPU_ROOT, discoverGpus } from '../../runtime/index.js';
import { parseRegistryConfig } from '../../cri/index.js';
import { ClusterConfigError, NotSupportedYetError } from '../errors.js';
import { parseCidr, size } from './cidr.js';
import {
  CONFIG_API_VERSION,
  CONFIG_KIND,
  DEFAULT_KUBERNETES_VERSION,
  type ClusterConfig,
  type ExtraMount,
  type NodeConfig,
  type PortMapping,
} from './types.js';

type Raw = Record<string, unknown>;

/** Validates one config document field by field; every error names the field (`nodes[1].role`). */
class Checker {
  constructor(readonly source: string) {}

  fail(field: string, problem: string, fix: string): never {
    throw new ClusterConfigError(this.source, field, problem, fix);
  }

  object(v: unknown, field: string): Raw {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(field, `expected a mapping, got ${JSON.stringify(v)}`, 'write it as `key: value` lines');
    return v as Raw;
  }

  only(o: Raw, field: string, keys: string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) this.fail(field ? `${field}.${k}` : k, 'unknown field', `use one of ${keys.join(', ')}`);
    }
  }

  string(v: unknown, field: string, fallback?: string): string {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v === '') this.fail(field, `expected a non-empty string, got ${JSON.stringify(v)}`, 'give it a value');
    return v;
  }

  int(v: unknown, field: string, min: number, max: number, fallback?: number): number {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, 'fix the number');
    }
    return v;
  }

  bool(v: unknown, field: string, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(field, `expected true or false, got ${JSON.stringify(v)}`, 'write true or false');
    return v;
  }

  array(v: unknown, field: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(field, `expected a list, got ${JSON.stringify(v)}`, 'write it as `- item` lines');
    return v;
  }

  cidr(v: unknown, field: string, minPrefix: number, maxPrefix: number): string {
    const text = this.string(v, field);
    const c = parseCidr(text);
    if (!c) this.fail(field, `${JSON.stringify(text)} is not an IPv4 subnet`, 'write it as a.b.c.d/n with no host bits set, e.g. 10.244.0.0/16');
    if (c.prefix < minPrefix || c.prefix > maxPrefix) this.fail(field, `/${c.prefix} is out of range`, `use a prefix from /${minPrefix} to /${maxPrefix}`);
    return text;
  }
}

/** DNS-1123 label: what Kubernetes accepts as a node name part and we accept as a cluster name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$/;
const VERSION = /^v(\d+)\.(\d+)\.(\d+)$/;
/** What the kubelet may set under kubernetes.io / k8s.io (NodeRestriction; kubeletapis.IsKubeletLabel). */
const KUBELET_LABEL_NAMESPACES = /(^|\.)(kubelet|node)\.kubernetes\.io$/;
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);

/** Checks a cluster name: it names files, cgroups and kubeconfig contexts. */
export function checkClusterName(name: string, source = '--name'): string {
  if (!DNS_LABEL.test(name) || name.length > 40) {
    throw new ClusterConfigError(source, 'name', `${JSON.stringify(name)} is not a valid cluster name`, 'use up to 40 lowercase letters, digits and dashes, starting and ending with a letter or digit');
  }
  return name;
}

/** Checks `vMAJOR.MINOR.PATCH` and that the release is one sifkube generates flags for (1.28+). */
export function checkKubernetesVersion(version: string, source = '--kubernetes-version'): string {
  const m = VERSION.exec(version);
  if (!m) throw new ClusterConfigError(source, 'kubernetesVersion', `${JSON.stringify(version)} is not a release version`, 'write it as vMAJOR.MINOR.PATCH, e.g. v1.31.4');
  if (Number(m[1]) !== 1 || Number(m[2]) < 28) {
    throw new ClusterConfigError(source, 'kubernetesVersion', `${version} is older than v1.28`, 'use Kubernetes v1.28 or newer');
  }
  return version;
}

function checkLabels(c: Checker, v: unknown, field: string): Record<string, string> {
  const o = c.object(v, field);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    const f = `${field}.${k}`;
    const slash = k.lastIndexOf('/');
    const prefix = slash >= 0 ? k.slice(0, slash) : '';
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if (!LABEL_NAME.test(name) || name.length > 63 || (prefix && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix))) {
      c.fail(f, 'not a valid label key', 'use [prefix/]name with letters, digits, -, _ and . (name up to 63 characters)');
    }
    // The kubelet refuses to start with labels in these namespaces (NodeRestriction), except its own.
    if (/(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix) && !KUBELET_LABEL_NAMESPACES.test(prefix) && !KUBELET_LABELS.has(k)) {
      c.fail(f, `the kubelet may not set labels under ${prefix}/`, 'use your own prefix (e.g. example.com/role) or node.kubernetes.io/…');
    }
    const value = val === null || val === undefined ? '' : String(val);
    if (!LABEL_VALUE.test(value) || value.length > 63) c.fail(f, `${JSON.stringify(value)} is not a valid label value`, 'use up to 63 letters, digits, -, _ and .');
    out[k] = value;
  }
  return out;
}

function checkPorts(c: Checker, v: unknown, field: string): PortMapping[] {
  return c.array(v, field).map((item, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(item, f);
    c.only(o, f, ['containerPort', 'hostPort', 'protocol']);
    const protocol = c.string(o.protocol, `${f}.protocol`, 'TCP').toUpperCase();
    if (protocol !== 'TCP' && protocol !== 'UDP') c.fail(`${f}.protocol`, `${JSON.stringify(o.protocol)} is not a protocol`, 'use TCP or UDP');
    return {
      containerPort: c.int(o.containerPort, `${f}.containerPort`, 1, 65535),
      hostPort: c.int(o.hostPort, `${f}.hostPort`, 1, 65535),
      protocol,
    };
  });
}

function checkMounts(c: Checker, v: unknown, field: string): ExtraMount[] {
  return c.array(v, field).map((item, i) => {
    const f = `${field}[${i}]`;
    const o = c.object(item, f);
    c.only(o, f, ['hostPath', 'containerPath', 'readOnly']);
    const hostPath = c.string(o.hostPath, `${f}.hostPath`);
    const containerPath = c.string(o.containerPath, `${f}.containerPath`);
    if (!isAbsolute(hostPath)) c.fail(`${f}.hostPath`, `${hostPath} is not an absolute path`, 'start it with /');
    if (!existsSync(hostPath)) c.fail(`${f}.hostPath`, `${hostPath} does not exist`, 'create it or fix the path');
    if (!isAbsolute(containerPath)) c.fail(`${f}.containerPath`, `${containerPath} is not an absolute path`, 'start it with /');
    return { hostPath, containerPath, readOnly: c.bool(o.readOnly, `${f}.readOnly`, false) };
  });
}

function checkNodes(c: Checker, v: unknown): NodeConfig[] {
  const list = v === undefined ? [{ role: 'control-plane' }] : c.array(v, 'nodes');
  if (list.length === 0) c.fail('nodes', 'the list is empty', 'list at least one node (role: control-plane)');
  if (list.length > 50) c.fail('nodes', `${list.length} nodes`, 'use at most 50 nodes');
  const nodes = list.map((item, i): NodeConfig => {
    const f = `nodes[${i}]`;
    const o = c.object(item, f);
    c.only(o, f, ['role', 'name', 'labels', 'extraPortMappings', 'extraMounts', 'gpu']);
    const role = c.string(o.role, `${f}.role`, 'worker');
    if (role !== 'control-plane' && role !== 'worker') c.fail(`${f}.role`, `${JSON.stringify(role)} is not a role`, 'use control-plane or worker');
    const name = o.name === undefined ? undefined : c.string(o.name, `${f}.name`);
    if (name !== undefined && (!DNS_LABEL.test(name) || name.length > 63)) {
      c.fail(`${f}.name`, `${JSON.stringify(name)} is not a valid node name`, 'use lowercase letters, digits and dashes (up to 63)');
    }
    return {
      role,
      name,
      labels: checkLabels(c, o.labels, `${f}.labels`),
      extraPortMappings: checkPorts(c, o.extraPortMappings, `${f}.extraPortMappings`),
      extraMounts: checkMounts(c, o.extraMounts, `${f}.extraMounts`),
      gpu: c.bool(o.gpu, `${f}.gpu`, false),
    };
  });
  const planes = nodes.filter((n) => n.role === 'control-plane').length;
  if (planes === 0) c.fail('nodes', 'no node has role control-plane', 'make the first node `role: control-plane`');
  if (planes > 1) throw new NotSupportedYetError(`${c.source}: nodes: ${planes} control-plane nodes (a highly available control plane); use one control-plane node`);
  const names = nodes.map((n) => n.name).filter((n): n is string => n !== undefined);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) c.fail('nodes', `two nodes are named ${dup}`, 'give every node its own name');
  const hostPorts = nodes.flatMap((n) => n.extraPortMappings.map((p) => `${p.protocol}/${p.hostPort}`));
  const dupPort = hostPorts.find((p, i) => hostPorts.indexOf(p) !== i);
  if (dupPort) c.fail('nodes', `host port ${dupPort} is mapped twice`, 'map each host port once');
  return nodes;
}

/**
 * `--gpu` makes the nodes that take workloads (the workers, or a lone control-plane node) GPU nodes;
 * the GPU root (`gpuRoot`, `--gpu-root`) must be a folder, and GPU nodes need a GPU there.
 */
function checkGpus(c: Checker, nodes: NodeConfig[], overrides: ConfigOverrides, rootField: unknown): string {
  const field = overrides.gpuRoot !== undefined ? '--gpu-root' : 'gpuRoot';
  const root = overrides.gpuRoot ?? c.string(rootField, 'gpuRoot', DEFAULT_GPU_ROOT);
  if (!isAbsolute(root)) c.fail(field, `${root} is not an absolute path`, 'start it with / (the root of the NVIDIA driver tree, / on a GPU host)');
  if (overrides.gpu) for (const n of nodes) if (n.role === 'worker' || nodes.length === 1) n.gpu = true;
  if (!nodes.some((n) => n.gpu)) return root;
  let host;
  try {
    host = discoverGpus(root);
  } catch (err) {
    return c.fail(field, (err as Error).message, 'give the root of the NVIDIA driver tree (/ on a GPU host)');
  }
  const i = nodes.findIndex((n) => n.gpu);
  if (host.gpus.length === 0) c.fail(overrides.gpu ? '--gpu' : `nodes[${i}].gpu`, `this host has no NVIDIA GPU (no ${join(root, 'dev')}/nvidia[0-9]*)`, 'leave GPUs out on this host (`sifkube doctor` shows what it has), or give --gpu-root the root of a driver tree');
  const gpuNodes = nodes.filter((n) => n.gpu).length;
  if (gpuNodes > host.gpus.length) c.fail(overrides.gpu ? '--gpu' : 'nodes', `${gpuNodes} GPU nodes share ${host.gpus.length} GPU(s)`, 'mark at most one node per GPU with gpu: true');
  return root;
}

/**
 * Validates a parsed config document. `overrides` are command-line flags, which win over the file.
 * Unknown fields are errors (a typo must not be silently ignored).
 */
export interface ConfigOverrides {
  name?: string;
  kubernetesVersion?: string;
  /** init --registry-mirror HOST=URL: tried before the file's mirrors of HOST */
  registryMirrors?: Record<string, string[]>;
  /** a keyring file or folder (`init --require-signed`) */
  requireSigned?: string;
  /** init --gpu: the nodes that take workloads get the GPUs */
  gpu?: boolean;
  /** init --gpu-root */
  gpuRoot?: string;
}

export function validateClusterConfig(doc: unknown, source: string, overrides: ConfigOverrides = {}): ClusterConfig {
  const c = new Checker(source);
  const o = c.object(doc, 'the document');
  c.only(o, '', ['apiVersion', 'kind', 'name', 'kubernetesVersion', 'nodes', 'networking', 'featureGates', 'registry', 'requireSigned', 'gpuRoot']);
  if (o.apiVersion !== CONFIG_API_VERSION) c.fail('apiVersion', `${JSON.stringify(o.apiVersion)} is not supported`, `write apiVersion: ${CONFIG_API_VERSION}`);
  if (o.kind !== CONFIG_KIND) c.fail('kind', `${JSON.stringify(o.kind)} is not supported`, `write kind: ${CONFIG_KIND}`);
  const name = checkClusterName(overrides.name ?? c.string(o.name, 'name', 'sifkube'), overrides.name ? '--name' : source);
  const kubernetesVersion = checkKubernetesVersion(
    overrides.kubernetesVersion ?? c.string(o.kubernetesVersion, 'kubernetesVersion', DEFAULT_KUBERNETES_VERSION),
    overrides.kubernetesVersion ? '--kubernetes-version' : source,
  );
  const net = c.object(o.networking, 'networking');
  c.only(net, 'networking', ['nodeSubnet', 'podSubnet', 'nodePodPrefix', 'serviceSubnet', 'dnsDomain']);
  const nodes = checkNodes(c, o.nodes);
  const gpuRoot = checkGpus(c, nodes, overrides, o.gpuRoot);
  const networking = {
    nodeSubnet: net.nodeSubnet === undefined ? undefined : c.cidr(net.nodeSubnet, 'networking.nodeSubnet', 8, 28),
    podSubnet: net.podSubnet === undefined ? undefined : c.cidr(net.podSubnet, 'networking.podSubnet', 8, 24),
    nodePodPrefix: c.int(net.nodePodPrefix, 'networking.nodePodPrefix', 16, 28, 24),
    serviceSubnet: c.cidr(net.serviceSubnet ?? '10.96.0.0/12', 'networking.serviceSubnet', 8, 28),
    dnsDomain: c.string(net.dnsDomain, 'networking.dnsDomain', 'cluster.local'),
  };
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(networking.dnsDomain)) {
    c.fail('networking.dnsDomain', `${JSON.stringify(networking.dnsDomain)} is not a DNS domain`, 'use lowercase letters, digits, dashes and dots');
  }
  if (networking.nodeSubnet && size(parseCidr(networking.nodeSubnet)!) - 3 < nodes.length) {
    c.fail('networking.nodeSubnet', `${networking.nodeSubnet} has no room for ${nodes.length} nodes and the bridge`, 'use a larger subnet');
  }
  if (networking.podSubnet) {
    const pod = parseCidr(networking.podSubnet)!;
    if (networking.nodePodPrefix < pod.prefix) c.fail('networking.nodePodPrefix', `/${networking.nodePodPrefix} is larger than podSubnet ${networking.podSubnet}`, 'use a longer prefix');
    if (2 ** (networking.nodePodPrefix - pod.prefix) < nodes.length) {
      c.fail('networking.podSubnet', `${networking.podSubnet} has room for ${2 ** (networking.nodePodPrefix - pod.prefix)} node slices of /${networking.nodePodPrefix}, not ${nodes.length}`, 'use a larger podSubnet or a longer nodePodPrefix');
    }
  }
  const gates = c.object(o.featureGates, 'featureGates');
  const featureGates: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(gates)) {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(k)) c.fail(`featureGates.${k}`, 'not a feature gate name', 'use the gate name as Kubernetes spells it, e.g. SidecarContainers');
    featureGates[k] = c.bool(v, `featureGates.${k}`, false);
  }
  const kubernetesVersionChosen = overrides.kubernetesVersion !== undefined || o.kubernetesVersion !== undefined;
  const registry = parseRegistryConfig(o.registry, source);
  for (const [host, urls] of Object.entries(parseRegistryConfig({ mirrors: overrides.registryMirrors }, '--registry-mirror').mirrors)) {
    registry.mirrors[host] = [...urls, ...(registry.mirrors[host] ?? [])];
  }
  const keyring = overrides.requireSigned ?? (o.requireSigned === undefined ? undefined : c.string(o.requireSigned, 'requireSigned'));
  // The keyring is kept in the cluster's state: later changes to the file do not change the cluster.
  const requireSigned = keyring === undefined ? undefined : { source: resolve(keyring), keyring: readKeyring(resolve(keyring)) };
  return { name, kubernetesVersion, kubernetesVersionChosen, nodes, networking, featureGates, registry, gpuRoot, ...(requireSigned ? { requireSigned } : {}) };
}

/** Parses and validates a YAML config text. */
export function parseClusterConfig(text: string, source: string, overrides: ConfigOverrides = {}): ClusterConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ClusterConfigError(source, 'the document', `not valid YAML (${(err as Error).message.split('\n')[0]})`, 'fix the syntax');
  }
  return validateClusterConfig(doc ?? {}, source, overrides);
}

/** The config of `init --nodes N` without a file: one control-plane node and N-1 workers. */
export function defaultClusterConfig(name: string, nodes: number, kubernetesVersion?: string, registryMirrors?: Record<string, string[]>, requireSigned?: string, gpus: { gpu?: boolean; gpuRoot?: string } = {}): ClusterConfig {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) {
    throw new ClusterConfigError('--nodes', 'nodes', `${nodes} is out of range`, 'use 1 to 50 nodes');
  }
  return validateClusterConfig(
    {
      apiVersion: CONFIG_API_VERSION,
      kind: CONFIG_KIND,
      nodes: [{ role: 'control-plane' }, ...Array.from({ length: nodes - 1 }, () => ({ role: 'worker' }))],
    },
    '--nodes',
    { name, kubernetesVersion, registryMirrors, requireSigned, ...gpus },
  );
}
