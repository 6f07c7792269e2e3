import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import {
  CgroupManager,
  containerState,
  createContainer,
  deleteContainer,
  execInContainer,
  injectIntoSpec,
  killContainer,
  parseSignal,
  receiveConsole,
  startContainer,
  updateContainer,
  ContainerNotFoundError,
  InvalidStatusError,
  type ContainerState,
} from '../../runtime/index.js';
import { SifkubeError } from '../../errors.js';
import type { CriConfig } from '../config.js';
import { AlreadyExistsError, CriOperationError, CriRequestError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageService } from '../images/service.js';
import type { ImageRecord } from '../images/store.js';
import type { Logger } from '../log.js';
import type { SessionIO } from '../streaming/index.js';
import { RecordStore } from '../services/records.js';
import type { Sandbox, SandboxService } from '../services/sandboxes.js';
import { nowNanos } from '../validate.js';
import { followLog, makeResizeFifo, makeStdinFifo } from './attach.js';
import { attachLogPath, PRIVATE_LOG_MAX_BYTES, reopenLog, startLogWriter } from './logs.js';
import { mountImage, mountRootfs, unmountImage, unmountRootfs } from './rootfs.js';
import { buildSpec, resources, type ContainerConfig, type Resources } from './spec.js';
import { resolveCdiDevices } from './cdi.js';
import { cgroupStats } from './stats.js';
import { catches, droppedByInit } from './stop-signal.js';
import { resolveUser } from './users.js';
import { KeyedLock } from '../services/keyed-lock.js';

export type CriContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** A container as sifkube keeps it (persisted as JSON next to the sandboxes). */
export interface ContainerRecord {
  id: string;
  sandboxId: string;
  imageId: string;
  config: ContainerConfig;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** Absolute log path ('' when the kubelet asked for none) and the pid of its writer. */
  logPath: string;
  logPid?: number;
  /** Runtime folder: bundle, writable layer. */
  dir: string;
  cgroupsPath: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  /** Set until CreateContainer has finished: a record still creating after a crash is rolled back at startup. */
  creating?: boolean;
}

export type ContainerEventType = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

const STOP_POLL_MS = 20;
/** How long an exit status may lag behind the end of the init (the monitor writes it). */
const EXIT_GRACE_MS = 2000;

/** A cgroup the CRI made for itself goes with its last container (a busy or absent one stays as it is). */
function removeIfEmpty(cgroupsPath: string): void {
  for (const dir of new CgroupManager(cgroupsPath).dirs()) {
    try {
      rmdirSync(dir);
    } catch {
      // still in use by another container, or never created in this hierarchy
    }
  }
}

/** Exit codes above 128 are signals: 137 is SIGKILL. */
function reasonFor(code: number, oomKilled: boolean): string {
  if (oomKilled) return 'OOMKilled';
  return code === 0 ? 'Completed' : 'Error';
}

/**
 * Containers: OCI bundles (a SIF-backed overlay root, config.json from the request and the image),
 * run by sifkube's runtime library; logs written by a native writer; records that survive a restart
 * of the CRI server.
 */
export class ContainerService {
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly records: RecordStore<ContainerRecord>;
  readonly runtimeRoot: string;
  readonly events = new EventEmitter();
  private readonly watcher: NodeJS.Timeout;
  private readonly locks = new KeyedLock();
  private readonly exitPendingSince = new Map<string, number>();
  private readonly killing = new Map<string, Promise<void>>();
  /** Holders of stdinOnce containers' stdin, closed when the first attach ends. */
  private readonly stdinHolders = new Map<string, number>();
  private readonly attachedOnce = new Set<string>();

  constructor(
    private readonly config: CriConfig,
    private readonly log: Logger,
    private readonly sandboxes: SandboxService,
    private readonly images: ImageService,
  ) {
    this.records = new RecordStore<ContainerRecord>(join(config.stateDir, 'containers'));
    this.runtimeRoot = join(config.runDir, 'runtime');
    for (const c of this.records.loadAll()) this.containers.set(c.id, c);
    this.events.setMaxListeners(0);
    // Exits are noticed by polling the runtime's records: the monitor writes the exit status.
    this.watcher = setInterval(() => this.observeExits(), 500);
    this.watcher.unref();
  }

  /** Stops watching for exits and ends the event streams (the server is going away). */
  close(): void {
    clearInterval(this.watcher);
    this.events.emit('close');
  }


  /**
   * After a restart: a container whose CreateContainer was cut short is undone as its failure would
   * have been, and runtime containers, container folders and image mounts no record names are removed.
   */
  async recover(): Promise<void> {
    for (const c of this.list().filter((o) => o.creating)) {
      this.log.warn(`container ${c.id.slice(0, 12)}: the server stopped while creating it, so it is rolled back`);
      await this.destroy(c).catch((e: Error) => this.log.warn(`rollback of container ${c.id.slice(0, 12)}: ${e.message}`));
    }
    const orphans = (dir: string, known: Set<string>) => (existsSync(dir) ? readdirSync(dir).filter((n) => !known.has(n)) : []);
    const ids = new Set(this.containers.keys());
    for (const id of orphans(this.runtimeRoot, ids)) {
      this.log.warn(`removing runtime container ${id.slice(0, 12)}: no container record owns it`);
      try {
        await deleteContainer(id, { root: this.runtimeRoot, force: true });
      } catch (err) {
        if (!(err instanceof ContainerNotFoundError)) throw err;
      }
      rmSync(join(this.runtimeRoot, id), { recursive: true, force: true });
    }
    for (const id of orphans(join(this.config.runDir, 'containers'), ids)) {
      this.log.warn(`removing container folder ${id.slice(0, 12)}: no container record owns it`);
      const dir = join(this.config.runDir, 'containers', id);
      await unmountRootfs(dir);
      rmSync(dir, { recursive: true, force: true });
    }
    const images = new Set(this.list().map((c) => c.imageId.replace(/^sha256:/, '')));
    for (const name of orphans(join(this.config.runDir, 'images'), images)) unmountImage(join(this.config.runDir, 'images', name));
    removeIfEmpty(this.config.cgroupParent);
  }

  list(): ContainerRecord[] {
    return [...this.containers.values()];
  }

  get(idOrPrefix: string): ContainerRecord {
    const exact = this.containers.get(idOrPrefix);
    if (exact) return exact;
    const m = this.list().filter((c) => c.id.startsWith(idOrPrefix));
    if (m.length === 1) return m[0];
    if (m.length > 1) throw new InvalidArgumentError(`container_id ${idOrPrefix} matches ${m.length} containers: give more of the ID`);
    throw new NotFoundError(`container ${idOrPrefix} not found: list them with ListContainers`);
  }

  usingImage(imageId: string): string[] {
    return this.list().filter((c) => c.imageId === imageId).map((c) => c.id);
  }

  private save(c: ContainerRecord): void {
    this.records.save(c.id, c);
  }

  /** Events go out in order: a listener that reads state (and so records an exit) queues its event behind this one. */
  private emit(c: ContainerRecord, type: ContainerEventType): void {
    const event = { containerId: c.id, type, createdAt: nowNanos(), sandboxId: c.sandboxId };
    queueMicrotask(() => this.events.emit('event', event));
  }

  private runtimeState(c: ContainerRecord): ContainerState | undefined {
    try {
      return containerState(c.id, { root: this.runtimeRoot });
    } catch (err) {
      if (err instanceof ContainerNotFoundError) return undefined;
      throw err;
    }
  }

  /** The CRI state, recording the exit the first time it is seen. */
  state(c: ContainerRecord): CriContainerState {
    if (c.finishedAt) return 'CONTAINER_EXITED';
    const st = this.runtimeState(c);
    if (!st) return c.startedAt ? 'CONTAINER_UNKNOWN' : 'CONTAINER_CREATED';
    if (st.status === 'created' || st.status === 'creating') return 'CONTAINER_CREATED';
    if (st.status === 'running' || st.status === 'paused') return 'CONTAINER_RUNNING';
    // Its init is gone, but where the container shares a PID namespace (pod, node) its other
    // processes live on: they go first, so a restart never meets them (containerd kills them too).
    if (this.leftovers(c).length > 0) {
      void this.killLeftovers(c);
      return 'CONTAINER_RUNNING';
    }
    // The init is gone but its monitor may not have written the exit status yet: wait for it a little.
    if (!st.exit && Date.now() - (this.exitPendingSince.get(c.id) ?? (this.exitPendingSince.set(c.id, Date.now()), Date.now())) < EXIT_GRACE_MS) {
      return 'CONTAINER_RUNNING';
    }
    this.exitPendingSince.delete(c.id);
    this.recordExit(c, st);
    return 'CONTAINER_EXITED';
  }

  private leftovers(c: ContainerRecord): number[] {
    try {
      return new CgroupManager(c.cgroupsPath).pids();
    } catch {
      return [];
    }
  }

  /** Kills what is left in the container's cgroup once its init is gone, and waits for it to go. */
  private killLeftovers(c: ContainerRecord): Promise<void> {
    let p = this.killing.get(c.id);
    if (!p && this.leftovers(c).length === 0) return Promise.resolve();
    if (!p) {
      p = new CgroupManager(c.cgroupsPath)
        .killAll()
        .catch((err: Error) => this.log.warn(`container ${c.id.slice(0, 12)}: killing the processes its init left: ${err.message}`))
        .finally(() => this.killing.delete(c.id));
      this.killing.set(c.id, p);
    }
    return p;
  }

  private recordExit(c: ContainerRecord, st: ContainerState): void {
    if (c.finishedAt) return;
    const code = st.exit?.exitCode ?? 255;
    const oom = (cgroupStats(c.cgroupsPath).oomKills ?? 0) > 0;
    c.exitCode = code;
    c.finishedAt = st.exit ? (BigInt(Date.parse(st.exit.finishedAt)) * 1_000_000n).toString() : nowNanos();
    c.reason = reasonFor(code, oom);
    this.save(c);
    this.emit(c, 'CONTAINER_STOPPED_EVENT');
  }

  private observeExits(): void {
    for (const c of this.list()) {
      if (!c.startedAt || c.finishedAt) continue;
      try {
        this.state(c);
      } catch (err) {
        this.log.warn(`checking container ${c.id.slice(0, 12)}: ${(err as Error).message}`);
      }
    }
  }

  private imageMountDir(img: ImageRecord): string {
    return join(this.config.runDir, 'images', img.id.replace(/^sha256:/, ''));
  }

  async create(sandboxId: string, cfg: ContainerConfig): Promise<ContainerRecord> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (sandbox.state !== 'SANDBOX_READY') throw new FailedPreconditionError(`pod sandbox ${sandbox.id.slice(0, 12)} is not ready: create containers in a running sandbox`);
    const md = cfg.metadata;
    if (!md?.name) throw new InvalidArgumentError('config.metadata.name is empty: name the container');
    if (!cfg.image?.image) throw new InvalidArgumentError('config.image.image is empty: name the image (pull it first)');
    const img = this.images.find(cfg.image.image, 'config.image.image');
    if (!img) throw new NotFoundError(`image ${cfg.image.image} is not in the image store: pull it first (PullImage)`);
    await this.images.checkSigned(cfg.image.image, img);
    const clash = this.list().find((c) => c.sandboxId === sandbox.id && c.config.metadata?.name === md.name && c.config.metadata?.attempt === md.attempt);
    if (clash) throw new AlreadyExistsError(`container ${md.name} attempt ${md.attempt} already exists in sandbox ${sandbox.id.slice(0, 12)} as ${clash.id}: remove it first`);
    const sc = cfg.linux?.securityContext;
    if (sc?.runAsGroup && !sc.runAsUser && !sc.runAsUsername) {
      throw new InvalidArgumentError(`config.linux.security_context.run_as_group ${sc.runAsGroup.value} is set without run_as_user or run_as_username: set the user too, or leave the group out`);
    }
    if (cfg.logPath && (isAbsolute(cfg.logPath) || cfg.logPath.split('/').includes('..'))) {
      throw new InvalidArgumentError(`config.log_path ${cfg.logPath} must be relative to the sandbox log directory, without ..`);
    }
    // CDI requests are resolved before anything is made: a bad one fails the call alone.
    const gpus = resolveCdiDevices(cfg.CDIDevices ?? [], this.config.gpuRoot, this.config.gpus);
    const id = randomBytes(32).toString('hex');
    const dir = join(this.config.runDir, 'containers', id);
    const logPath = cfg.logPath && sandbox.config.logDirectory ? join(sandbox.config.logDirectory, cfg.logPath) : '';
    const parent = sandbox.config.linux?.cgroupParent || this.config.cgroupParent;
    const rec: ContainerRecord = { id, sandboxId: sandbox.id, imageId: img.id, config: cfg, createdAt: nowNanos(), logPath, dir, cgroupsPath: `${parent}/${id}`, uid: 0, gid: 0, additionalGids: [], creating: true };
    return this.locks.run(id, async () => {
      mkdirSync(join(dir, 'bundle'), { recursive: true });
      this.containers.set(id, rec);
      this.save(rec);
      try {
        const imageDir = this.imageMountDir(img);
        mountImage(img.sif, imageDir);
        await mountRootfs(imageDir, dir);
        const user = resolveUser(
          imageDir,
          {
            runAsUser: sc?.runAsUser ? Number(sc.runAsUser.value) : undefined,
            runAsGroup: sc?.runAsGroup ? Number(sc.runAsGroup.value) : undefined,
            runAsUsername: sc?.runAsUsername || undefined,
            supplementalGroups: (sc?.supplementalGroups ?? []).map(Number),
            strictGroups: sc?.supplementalGroupsPolicy === 'Strict',
          },
          img.config.config?.User ?? '',
        );
        Object.assign(rec, user);
        const targetId = sc?.namespaceOptions?.pid === 'TARGET' ? sc.namespaceOptions.targetId : undefined;
        const built = buildSpec({
          id,
          cfg,
          sandbox,
          image: img.config,
          user,
          cgroupsPath: rec.cgroupsPath,
          targetPid: targetId ? this.runtimeState(this.get(targetId))?.pid : undefined,
          seccompDefault: this.config.seccompDefault,
        });
        const spec = gpus ? injectIntoSpec(built, gpus) : built;
        writeFileSync(join(dir, 'bundle', 'config.json'), JSON.stringify(spec));
        const fifo = cfg.stdin ? makeStdinFifo(join(dir, 'stdin')) : undefined;
        // Without stdinOnce the log writer (which outlives this server) holds the stdin open for good.
        const holdInWriter = fifo && !cfg.stdinOnce ? fifo.holder : undefined;
        // Without a log_path the output still goes somewhere attach can follow: a small private log.
        const writer = startLogWriter(logPath || attachLogPath(dir), dir, holdInWriter, logPath ? undefined : PRIVATE_LOG_MAX_BYTES);
        rec.logPid = writer.pid;
        const stdio: [number | 'ignore', number, number] = [fifo && !cfg.tty ? fifo.reader : 'ignore', writer.stdout, writer.stderr];
        if (fifo && holdInWriter === undefined) this.stdinHolders.set(id, fifo.holder);
        else if (fifo) closeSync(fifo.holder);
        // A tty container's init gets a terminal; its screen goes to the CRI log as stdout, relayed by a
        // console-relay that, like the log writer, outlives this server.
        const resizeFd = cfg.tty ? makeResizeFifo(join(dir, 'resize')) : undefined;
        const relay = cfg.tty
          ? await receiveConsole(join(tmpdir(), `sk-tty-${randomBytes(6).toString('hex')}.sock`), undefined, { output: stdio[1], input: fifo ? fifo.reader : false, resizeFd, detached: true }).finally(() => resizeFd !== undefined && closeSync(resizeFd))
          : undefined;
        try {
          await createContainer(id, { root: this.runtimeRoot, bundle: join(dir, 'bundle'), stdio, consoleSocket: relay?.socket });
        } catch (err) {
          relay?.close();
          throw err;
        } finally {
          closeSync(writer.stdout);
          closeSync(writer.stderr);
          if (fifo) closeSync(fifo.reader);
        }
        rec.creating = undefined;
        this.save(rec);
      } catch (err) {
        await this.destroy(rec).catch((e: Error) => this.log.warn(`cleanup of failed container ${id.slice(0, 12)}: ${e.message}`));
        throw err instanceof CriRequestError ? err : new CriOperationError(`cannot create container ${md.name}: ${(err as Error).message}`);
      }
      this.emit(rec, 'CONTAINER_CREATED_EVENT');
      this.log.info(`container ${id.slice(0, 12)} ${md.name} created in sandbox ${sandbox.id.slice(0, 12)}`);
      return rec;
    });
  }

  async start(idOrPrefix: string): Promise<void> {
    const c = this.get(idOrPrefix);
    await this.locks.run(c.id, async () => {
      const state = this.state(c);
      if (state !== 'CONTAINER_CREATED') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is ${state.replace('CONTAINER_', '').toLowerCase()}: only a created container can be started`);
      try {
        await startContainer(c.id, { root: this.runtimeRoot });
      } catch (err) {
        throw new CriOperationError(`cannot start container ${c.id.slice(0, 12)}: ${(err as Error).message}`);
      }
      c.startedAt = nowNanos();
      this.save(c);
      this.emit(c, 'CONTAINER_STARTED_EVENT');
    });
  }

  private signalNumber(c: ContainerRecord): number {
    const s = c.config.stopSignal && c.config.stopSignal !== 'RUNTIME_DEFAULT' ? c.config.stopSignal : this.images.store.byId(c.imageId)?.config.config?.StopSignal;
    try {
      return s ? parseSignal(s.replace(/^RUNTIME_DEFAULT$/, 'SIGTERM').replace(/^SIGRTMINPLUS(\d+)$/, 'RTMIN+$1')) : 15;
    } catch {
      return 15;
    }
  }

  private async waitStopped(c: ContainerRecord, ms: number, onPoll?: () => void): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      const st = this.runtimeState(c);
      if (!st || (st.status === 'stopped' && st.exit)) return true;
      if (Date.now() >= deadline) return false;
      onPoll?.();
      await new Promise((r) => setTimeout(r, STOP_POLL_MS));
    }
  }

  /**
   * Sends the stop signal and waits up to `ms` for the exit. A signal the kernel dropped (see
   * droppedByInit) is sent again as soon as the process has a handler for it.
   */
  private async signalAndWait(c: ContainerRecord, pid: number | undefined, ms: number): Promise<boolean> {
    const sig = this.signalNumber(c);
    let dropped = pid !== undefined && droppedByInit(pid, sig);
    this.kill(c, sig);
    return this.waitStopped(c, ms, () => {
      if (dropped && catches(pid!, sig)) {
        dropped = false;
        this.kill(c, sig);
      }
    });
  }

  private kill(c: ContainerRecord, sig: number): void {
    try {
      killContainer(c.id, sig, { root: this.runtimeRoot, all: sig === 9 });
    } catch (err) {
      if (!(err instanceof InvalidStatusError) && !(err instanceof ContainerNotFoundError)) throw err;
    }
  }

  /** The stop signal, up to `timeout` seconds, then SIGKILL. Stopping a stopped container is fine. */
  async stop(idOrPrefix: string, timeoutSeconds: number): Promise<void> {
    const c = this.get(idOrPrefix);
    await this.locks.run(c.id, () => this.stopLocked(c, timeoutSeconds));
  }

  private async stopLocked(c: ContainerRecord, timeoutSeconds: number): Promise<void> {
    const st = this.runtimeState(c);
    if (!st || st.status === 'stopped') {
      await this.killLeftovers(c);
      if (st) this.recordExit(c, st);
      return;
    }
    if (timeoutSeconds > 0 && st.status !== 'created') {
      if (await this.signalAndWait(c, st.pid, timeoutSeconds * 1000)) {
        await this.killLeftovers(c);
        this.state(c);
        return;
      }
    }
    this.kill(c, 9);
    if (!(await this.waitStopped(c, 10_000))) throw new CriOperationError(`container ${c.id.slice(0, 12)} did not exit after SIGKILL`);
    await this.killLeftovers(c);
    const after = this.runtimeState(c);
    if (after) this.recordExit(c, after);
  }

  /** Kills, deletes and unmounts; removing an unknown container is fine. */
  async remove(idOrPrefix: string): Promise<void> {
    let c: ContainerRecord;
    try {
      c = this.get(idOrPrefix);
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    await this.locks.run(c.id, async () => {
      if (!this.containers.has(c.id)) return;
      await this.stopLocked(c, 0);
      await this.destroy(c);
      this.emit(c, 'CONTAINER_DELETED_EVENT');
      this.log.info(`container ${c.id.slice(0, 12)} removed`);
    });
  }

  private async destroy(c: ContainerRecord): Promise<void> {
    try {
      await deleteContainer(c.id, { root: this.runtimeRoot, force: true });
    } catch (err) {
      if (!(err instanceof ContainerNotFoundError)) throw err;
    }
    this.releaseStdin(c.id);
    await unmountRootfs(c.dir);
    // Where containers of a pod without a cgroup parent go is the CRI's own: removed when it empties.
    if (c.cgroupsPath === `${this.config.cgroupParent}/${c.id}`) removeIfEmpty(this.config.cgroupParent);
    rmSync(c.dir, { recursive: true, force: true });
    this.containers.delete(c.id);
    this.records.remove(c.id);
    const img = this.images.store.byId(c.imageId);
    const mountDir = join(this.config.runDir, 'images', c.imageId.replace(/^sha256:/, ''));
    if (!this.list().some((o) => o.imageId === c.imageId)) unmountImage(img ? this.imageMountDir(img) : mountDir);
  }

  async stopAll(s: Sandbox): Promise<void> {
    for (const c of this.list().filter((c) => c.sandboxId === s.id)) await this.stop(c.id, 0);
  }

  async removeAll(s: Sandbox): Promise<void> {
    for (const c of this.list().filter((c) => c.sandboxId === s.id)) await this.remove(c.id);
  }

  /** UpdateContainerResources: new cgroup limits for a live container (oom_score_adj is set only at create, as containerd). */
  async updateResources(idOrPrefix: string, r: Resources | null): Promise<void> {
    const c = this.get(idOrPrefix);
    if (!r) throw new InvalidArgumentError('linux is missing: give the new linux resources');
    await this.locks.run(c.id, async () => {
      const state = this.state(c);
      if (state !== 'CONTAINER_CREATED' && state !== 'CONTAINER_RUNNING') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is ${state.replace('CONTAINER_', '').toLowerCase()}: only a created or running container can be updated`);
      try {
        await updateContainer(c.id, resources(r) ?? {}, { root: this.runtimeRoot });
      } catch (err) {
        throw new CriOperationError(`cannot update the resources of container ${c.id.slice(0, 12)}: ${(err as Error).message}`);
      }
      c.config = { ...c.config, linux: { securityContext: c.config.linux?.securityContext ?? null, resources: r } };
      this.save(c);
    });
  }

  /** Returns once the log writer has the file at the log path open (it creates it if it was renamed away). */
  async reopenLog(idOrPrefix: string): Promise<void> {
    const c = this.get(idOrPrefix);
    if (this.state(c) !== 'CONTAINER_RUNNING') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is not running: its log cannot be reopened`);
    if (!c.logPath) throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} has no log file (no log_path was given)`);
    if (!c.logPid || !(await reopenLog(c.logPid, c.logPath))) throw new CriOperationError(`the log writer of container ${c.id.slice(0, 12)} did not reopen ${c.logPath}`);
  }

  /** Runs a command in the container wired to a streaming session (kubectl exec). */
  async execStreams(idOrPrefix: string, cmd: string[], io: SessionIO): Promise<number> {
    const c = this.get(idOrPrefix);
    if (this.state(c) !== 'CONTAINER_RUNNING') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is not running: exec needs a running container`);
    const spec = JSON.parse(readFileSync(join(c.dir, 'bundle', 'config.json'), 'utf8')) as { process: Record<string, unknown> };
    if (io.tty) return this.execTerminal(c, { ...spec.process, args: cmd }, io);
    const ex = await execInContainer(c.id, { root: this.runtimeRoot, process: { ...spec.process, args: cmd, terminal: false } as never, stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (io.stdin && ex.monitor.stdin) {
      ex.monitor.stdin.on('error', () => undefined);
      io.stdin.pipe(ex.monitor.stdin);
    }
    ex.monitor.stdout?.on('data', (d: Buffer) => io.stdout?.write(d));
    ex.monitor.stderr?.on('data', (d: Buffer) => io.stderr?.write(d));
    const kill = () => {
      try {
        process.kill(ex.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    io.signal.addEventListener('abort', kill, { once: true });
    const closed = new Promise<void>((r) => ex.monitor.once('close', () => r()));
    const code = await ex.exited;
    await closed;
    io.signal.removeEventListener('abort', kill);
    return code;
  }

  private releaseStdin(id: string): void {
    const fd = this.stdinHolders.get(id);
    this.stdinHolders.delete(id);
    if (fd !== undefined) closeSync(fd);
  }

  /**
   * Attach: the container's output as its log records it from now on (so it works across restarts of
   * this server), and the client's input into its stdin. Ends when the container exits or the client leaves.
   */
  async attach(idOrPrefix: string, io: SessionIO): Promise<void> {
    const c = this.get(idOrPrefix);
    if (this.state(c) !== 'CONTAINER_RUNNING') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is not running: attach needs a running container`);
    if (io.stdin && !c.config.stdin) throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} was created without stdin: attach without stdin (-i), or create it with stdin`);
    const first = !this.attachedOnce.has(c.id);
    this.attachedOnce.add(c.id);
    const input = io.stdin ? createWriteStream(join(c.dir, 'stdin'), { flags: 'w' }) : undefined;
    input?.on('error', () => undefined);
    if (io.stdin && input) {
      io.stdin.pipe(input);
      if (first && c.config.stdinOnce) io.stdin.once('end', () => input.once('close', () => this.releaseStdin(c.id)));
    }
    // A tty container's terminal takes the attached client's size.
    const sizes = c.config.tty && io.resize ? createWriteStream(join(c.dir, 'resize'), { flags: 'w' }) : undefined;
    sizes?.on('error', () => undefined);
    const resize = (sz: { width: number; height: number }) => sizes?.write(`${sz.width} ${sz.height}\n`);
    if (io.size) resize(io.size);
    io.resize?.on('size', resize);
    const exited = () => io.signal.aborted || this.state(c) !== 'CONTAINER_RUNNING';
    try {
      await followLog(c.logPath || attachLogPath(c.dir), (chunk) => (chunk.stream === 'stderr' && io.stderr ? io.stderr : io.stdout)?.write(chunk.data), exited);
    } finally {
      io.resize?.off('size', resize);
      sizes?.end();
      input?.end();
      // stdinOnce: the first attached client's input was the container's whole input.
      if (first && c.config.stdinOnce) this.releaseStdin(c.id);
    }
  }

  /** exec -t: the process gets a terminal of its own (the runtime's console socket), relayed to the session. */
  private async execTerminal(c: ContainerRecord, proc: Record<string, unknown>, io: SessionIO): Promise<number> {
    const size = io.size ?? { width: 0, height: 0 };
    // A socket path must fit sun_path (108 bytes): the container folder is too deep for it.
    const relay = await receiveConsole(join(tmpdir(), `sk-tty-${randomBytes(6).toString('hex')}.sock`), size);
    let ex;
    try {
      ex = await execInContainer(c.id, { root: this.runtimeRoot, process: { ...proc, terminal: true, consoleSize: { width: size.width, height: size.height } } as never, consoleSocket: relay.socket, stdio: ['ignore', 'ignore', 'ignore'] });
    } catch (err) {
      relay.close();
      throw err;
    }
    relay.output!.on('data', (d: Buffer) => io.stdout?.write(d));
    io.stdin?.pipe(relay.input!);
    const resize = (s: { width: number; height: number }) => relay.resize(s.width, s.height);
    io.resize?.on('size', resize);
    const kill = () => {
      try {
        process.kill(ex.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    io.signal.addEventListener('abort', kill, { once: true });
    try {
      const code = await ex.exited;
      await relay.closed;
      return code;
    } finally {
      io.signal.removeEventListener('abort', kill);
      io.resize?.off('size', resize);
      io.stdin?.unpipe(relay.input!);
      relay.close();
    }
  }

  /** Runs a command in the container and collects its output (each stream capped at 16 MiB). */
  async execSync(idOrPrefix: string, cmd: string[], timeoutSeconds: number): Promise<{ stdout: Buffer; stderr: Buffer; exitCode: number }> {
    const c = this.get(idOrPrefix);
    if (cmd.length === 0) throw new InvalidArgumentError('cmd is empty: give the command to run');
    if (this.state(c) !== 'CONTAINER_RUNNING') throw new FailedPreconditionError(`container ${c.id.slice(0, 12)} is not running: ExecSync needs a running container`);
    const spec = JSON.parse(readFileSync(join(c.dir, 'bundle', 'config.json'), 'utf8')) as { process: Record<string, unknown> };
    const proc = { ...spec.process, args: cmd, terminal: false };
    let ex;
    try {
      ex = await execInContainer(c.id, { root: this.runtimeRoot, process: proc as never, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new CriOperationError(`ExecSync in ${c.id.slice(0, 12)}: ${(err as SifkubeError).message}`);
    }
    const cap = 16 * 1024 * 1024;
    const collect = (stream: NodeJS.ReadableStream | null) => {
      const parts: Buffer[] = [];
      let size = 0;
      stream?.on('data', (b: Buffer) => {
        if (size < cap) parts.push(b.subarray(0, cap - size));
        size += b.length;
      });
      return () => Buffer.concat(parts);
    };
    const out = collect(ex.monitor.stdout);
    const err = collect(ex.monitor.stderr);
    const closed = new Promise<void>((r) => ex.monitor.once('close', () => r()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = timeoutSeconds > 0 ? new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutSeconds * 1000))) : new Promise<never>(() => {});
    const result = await Promise.race([ex.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      try {
        process.kill(ex.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await ex.exited;
      throw new CriRequestError(4 /* DEADLINE_EXCEEDED */, `ExecSync ${cmd[0]} in ${c.id.slice(0, 12)}: timeout ${timeoutSeconds}s exceeded`, 47);
    }
    await closed;
    return { stdout: out(), stderr: err(), exitCode: result };
  }
}
