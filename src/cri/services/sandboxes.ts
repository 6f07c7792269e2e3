import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import type { CriConfig } from '../config.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnimplementedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PodSandboxConfig } from '../types.js';
import { nowNanos } from '../validate.js';
import { cniAdd, cniCheck, cniDel, findNetwork, loopbackNetwork, resultIps, type CniAttachment, type CniNetwork, type CniResult } from './cni.js';
import { IpForwardGuard } from './ip-forward.js';
import { createPodNamespaces, inNetns, isNamespace, removeNamespace } from './netns.js';
import { writePodFiles } from './pod-files.js';
import { startPodInit, stopPodInit, type PodInit } from './pod-pidns.js';
import { RecordStore } from './records.js';
import { KeyedLock } from './keyed-lock.js';

export type SandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

/** One pod sandbox as sifkube keeps it (persisted as JSON). */
export interface Sandbox {
  id: string;
  config: PodSandboxConfig;
  runtimeHandler: string;
  createdAt: string;
  state: SandboxState;
  hostNetwork: boolean;
  /** The bind-mounted network namespace; absent for host-network pods and once torn down. */
  netnsPath?: string;
  /** The pod's IPC and UTS namespaces (absent for host IPC / host network pods). */
  ipcnsPath?: string;
  utsnsPath?: string;
  /** The network the pod was attached to and the ADD result, kept for DEL. */
  network?: CniNetwork;
  cniResult?: CniResult;
  ips: string[];
  /** hostname, hosts, resolv.conf for the containers. */
  dir: string;
  /** The init of the pod-wide PID namespace (namespace_options.pid POD), while the pod runs. */
  podInit?: PodInit;
  /** Set until RunPodSandbox has finished: a record still creating after a crash is rolled back at startup. */
  creating?: boolean;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** The kernel's limit (sethostname fails with "name too long" past it). */
const HOST_NAME_MAX = 64;

/** Pod sandboxes: a network namespace held by a bind mount, CNI networking, the pod's files. */
export class SandboxService {
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly records: RecordStore<Sandbox>;
  private readonly ipForward: IpForwardGuard;
  /** One operation at a time per sandbox: a Stop racing a Remove must not run DEL twice. */
  private readonly locks = new KeyedLock();

  constructor(
    private readonly config: CriConfig,
    private readonly log: Logger,
  ) {
    this.records = new RecordStore<Sandbox>(join(config.stateDir, 'sandboxes'));
    this.ipForward = new IpForwardGuard(config.stateDir);
    for (const s of this.records.loadAll()) this.sandboxes.set(s.id, s);
  }


  /**
   * After a restart: a sandbox whose RunPodSandbox was cut short is undone as its failure would have
   * been, namespaces and pod folders no record names are removed, and every ready pod network gets a
   * CNI CHECK. A pod whose network is broken or gone is reported NOTREADY, so the kubelet replaces it.
   */
  async recover(): Promise<void> {
    for (const s of this.list().filter((o) => o.creating)) {
      this.log.warn(`sandbox ${s.id.slice(0, 12)}: the server stopped while creating it, so it is rolled back`);
      await this.tearDown(s, true);
      this.forget(s);
    }
    await this.removeOrphans();
    for (const s of this.list()) {
      if (s.state !== 'SANDBOX_READY' || s.hostNetwork) continue;
      try {
        if (!s.network || !s.cniResult || !s.netnsPath || !existsSync(s.netnsPath)) throw new Error('its network namespace or attachment is gone');
        await cniCheck(this.config.cni.binDir, s.network, this.attachment(s), s.cniResult);
      } catch (err) {
        this.log.warn(`sandbox ${s.id.slice(0, 12)}: its network failed CNI CHECK after a restart, so it is not ready: ${(err as Error).message}`);
        s.state = 'SANDBOX_NOTREADY';
        this.save(s);
      }
    }
  }

  /** Namespace mounts and pod folders left by a sandbox whose record never got written or was already removed. */
  private async removeOrphans(): Promise<void> {
    const known = new Set(this.list().flatMap((s) => [s.netnsPath, s.ipcnsPath, s.utsnsPath, s.dir]));
    const dirs = [...['net', 'ipc', 'uts'].map((k) => join(this.config.runDir, `${k}ns`)), join(this.config.stateDir, 'pods')];
    for (const dir of dirs) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (known.has(path)) continue;
        this.log.warn(`removing ${path}: no pod sandbox owns it (left by a server that stopped mid-call)`);
        if (dir.endsWith('pods')) rmSync(path, { recursive: true, force: true });
        else await removeNamespace(path);
      }
    }
  }

  /** The network the next pod will use, or why there is none (Status's NetworkReady). */
  networkStatus(): { network?: CniNetwork; problem?: string } {
    return findNetwork(this.config.cni.confDir);
  }

  /** A sandbox by full ID or unique ID prefix. */
  get(idOrPrefix: string): Sandbox {
    const exact = this.sandboxes.get(idOrPrefix);
    if (exact) return exact;
    const matches = [...this.sandboxes.values()].filter((s) => s.id.startsWith(idOrPrefix));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new InvalidArgumentError(`pod_sandbox_id ${idOrPrefix} matches ${matches.length} sandboxes: give more of the ID`);
    throw new NotFoundError(`pod sandbox ${idOrPrefix} not found: list them with ListPodSandbox`);
  }

  find(idOrPrefix: string): Sandbox | undefined {
    try {
      return this.get(idOrPrefix);
    } catch {
      return undefined;
    }
  }

  list(): Sandbox[] {
    return [...this.sandboxes.values()];
  }

  private save(s: Sandbox): void {
    this.records.save(s.id, s);
  }

  async run(config: PodSandboxConfig, runtimeHandler: string): Promise<Sandbox> {
    const md = config.metadata;
    if (!md) throw new InvalidArgumentError('config.metadata is missing: set name, uid and namespace');
    if (!md.name) throw new InvalidArgumentError('config.metadata.name is empty: set the pod name');
    if (!md.namespace) throw new InvalidArgumentError('config.metadata.namespace is empty: set the pod namespace');
    if (!md.uid) throw new InvalidArgumentError('config.metadata.uid is empty: set the pod UID');
    if (runtimeHandler !== '') throw new NotFoundError(`runtime_handler ${runtimeHandler} is unknown: sifkube has only the default handler (send "")`);
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    if (!hostNetwork && config.hostname !== '' && (!NAME_RE.test(config.hostname) || config.hostname.length > HOST_NAME_MAX)) {
      throw new InvalidArgumentError(`config.hostname ${config.hostname} is not a valid host name: use at most ${HOST_NAME_MAX} lower-case letters, digits, - and ., or leave it empty for the node's host name`);
    }
    for (const pm of config.portMappings) {
      if (pm.hostPort < 0 || pm.hostPort > 65535 || pm.containerPort < 0 || pm.containerPort > 65535) {
        throw new InvalidArgumentError(`config.port_mappings: ${pm.hostPort}->${pm.containerPort} is out of range: ports are 1-65535`);
      }
    }
    for (const key of Object.keys(config.linux?.sysctls ?? {})) {
      if (!/^[a-z0-9_.\-/]+$/.test(key) || key.includes('..')) throw new InvalidArgumentError(`config.linux.sysctls: ${key} is not a sysctl name`);
    }
    const clash = this.list().find(
      (s) => s.config.metadata?.name === md.name && s.config.metadata?.namespace === md.namespace && s.config.metadata?.uid === md.uid && s.config.metadata?.attempt === md.attempt,
    );
    if (clash) throw new AlreadyExistsError(`pod sandbox ${md.namespace}/${md.name} attempt ${md.attempt} already exists as ${clash.id}: remove it first`);

    const id = randomBytes(32).toString('hex');
    const dir = join(this.config.stateDir, 'pods', id);
    mkdirSync(dir, { recursive: true });
    const s: Sandbox = { id, config, runtimeHandler, createdAt: nowNanos(), state: 'SANDBOX_NOTREADY', hostNetwork, ips: [], dir, creating: true };
    this.sandboxes.set(id, s);
    this.save(s);
    try {
      await this.locks.run(id, () => this.setUp(s));
    } catch (err) {
      await this.locks.run(id, () => this.tearDown(s, true));
      this.forget(s);
      throw err;
    }
    return s;
  }

  private async setUp(s: Sandbox): Promise<void> {
    // No hostname: the pod keeps the node's, as containerd does (a pod name may be too long for one).
    const hostname = s.hostNetwork ? hostHostname() : s.config.hostname || hostHostname();
    const network = s.hostNetwork ? undefined : this.networkStatus();
    if (network && !network.network) throw new UnimplementedError(`cannot give the pod a network: ${network.problem}: write a CNI configuration there or run the pod with host networking`);
    const hostIpc = s.config.linux?.securityContext?.namespaceOptions?.ipc === 'NODE';
    const ns = (kind: string) => join(this.config.runDir, `${kind}ns`, s.id);
    s.netnsPath = s.hostNetwork ? undefined : ns('net');
    s.utsnsPath = s.hostNetwork ? undefined : ns('uts');
    s.ipcnsPath = hostIpc ? undefined : ns('ipc');
    this.save(s);
    await createPodNamespaces({ net: s.netnsPath, ipc: s.ipcnsPath, uts: s.utsnsPath }, hostname);
    if (s.config.linux?.securityContext?.namespaceOptions?.pid === 'POD') {
      s.podInit = await startPodInit();
      this.save(s);
    }
    if (network?.network) {
      await cniAdd(this.config.cni.binDir, loopbackNetwork(), { ...this.attachment(s), ifName: 'lo', portMappings: [] });
      this.ipForward.remember();
      s.network = network.network;
      this.save(s);
      s.cniResult = await cniAdd(this.config.cni.binDir, s.network, this.attachment(s));
      s.ips = resultIps(s.cniResult);
      await this.applySysctls(s);
    }
    writePodFiles(s.dir, hostname, s.ips[0], s.config.dnsConfig);
    s.state = 'SANDBOX_READY';
    s.creating = undefined;
    this.save(s);
    this.log.info(`sandbox ${s.id.slice(0, 12)} ${s.config.metadata!.namespace}/${s.config.metadata!.name} ready${s.ips[0] ? ` at ${s.ips[0]}` : ''}`);
  }

  /** net.* sysctls belong to the network namespace the sandbox holds; the others go to its containers. */
  private async applySysctls(s: Sandbox): Promise<void> {
    for (const [key, value] of Object.entries(s.config.linux?.sysctls ?? {})) {
      if (!key.startsWith('net.')) continue;
      try {
        await inNetns(s.netnsPath!, ['sysctl', '-w', `${key}=${value}`]);
      } catch (err) {
        throw new InvalidArgumentError(`config.linux.sysctls: ${key}=${value} cannot be set in the pod network namespace: ${(err as { stderr?: string }).stderr?.trim() ?? (err as Error).message}`);
      }
    }
  }

  private attachment(s: Sandbox): CniAttachment {
    const md = s.config.metadata!;
    return {
      containerId: s.id,
      netns: s.netnsPath!,
      ifName: 'eth0',
      args: { K8S_POD_NAMESPACE: md.namespace, K8S_POD_NAME: md.name, K8S_POD_INFRA_CONTAINER_ID: s.id, K8S_POD_UID: md.uid },
      portMappings: s.config.portMappings
        .filter((p) => p.hostPort > 0)
        .map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp', ...(p.hostIp ? { hostIP: p.hostIp } : {}) })),
    };
  }

  /**
   * DEL the network once, then drop the namespace. Safe to call again: what is gone is skipped. After
   * a failed RunPodSandbox (`bestEffort`) a failing DEL is logged and the namespace still goes.
   */
  private async tearDown(s: Sandbox, bestEffort = false): Promise<void> {
    if (s.podInit) {
      await stopPodInit(s.podInit);
      s.podInit = undefined;
      this.save(s);
    }
    if (s.network && s.netnsPath) {
      try {
        // A namespace that went away (with the node that held its bind mount, after a reboot) is
        // passed as an empty CNI_NETNS, as the CNI spec lets DEL do: the plugins still release the
        // address lease and their host-side state instead of failing on a file that is no namespace.
        const att = this.attachment(s);
        await cniDel(this.config.cni.binDir, s.network, isNamespace(s.netnsPath) ? att : { ...att, netns: '' }, s.cniResult);
      } catch (err) {
        if (!bestEffort) throw err;
        this.log.warn(`cleanup of failed sandbox ${s.id.slice(0, 12)}: ${(err as Error).message}`);
      }
      s.network = undefined;
      s.cniResult = undefined;
      this.save(s);
    }
    for (const key of ['netnsPath', 'ipcnsPath', 'utsnsPath'] as const) {
      const path = s[key];
      if (!path) continue;
      await removeNamespace(path);
      s[key] = undefined;
      this.save(s);
    }
    if (!this.list().some((o) => o.id !== s.id && o.network)) this.ipForward.restore();
  }

  async stop(idOrPrefix: string, stopContainers: (s: Sandbox) => Promise<void>): Promise<void> {
    const s = this.get(idOrPrefix);
    await this.locks.run(s.id, async () => {
      await stopContainers(s);
      await this.tearDown(s);
      if (s.state !== 'SANDBOX_NOTREADY') {
        s.state = 'SANDBOX_NOTREADY';
        this.save(s);
        this.log.info(`sandbox ${s.id.slice(0, 12)} stopped`);
      }
    });
  }

  /** Removing an unknown sandbox succeeds (the call is idempotent). */
  async remove(idOrPrefix: string, removeContainers: (s: Sandbox) => Promise<void>): Promise<void> {
    const s = this.find(idOrPrefix);
    if (!s) return;
    await this.locks.run(s.id, async () => {
      if (!this.sandboxes.has(s.id)) return;
      await removeContainers(s);
      await this.tearDown(s);
      this.forget(s);
      this.log.info(`sandbox ${s.id.slice(0, 12)} removed`);
    });
  }

  private forget(s: Sandbox): void {
    if (existsSync(s.dir)) rmSync(s.dir, { recursive: true, force: true });
    this.records.remove(s.id);
    this.sandboxes.delete(s.id);
  }
}
