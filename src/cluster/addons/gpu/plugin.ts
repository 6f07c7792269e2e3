import { credentials, Server, status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { listenUnix, type UnixGrpcListener } from '../../../cri/index.js';
import { gpuInjection, type Gpu, type GpuHost } from '../../../runtime/index.js';
import { devicePluginPackage } from './proto.js';

/** The extended resource pods ask for, as NVIDIA's own device plugin names it. */
export const GPU_RESOURCE = 'nvidia.com/gpu';
/** The plugin's socket in the kubelet's device-plugins folder. */
export const PLUGIN_SOCKET = 'sifkube-gpu.sock';
/**
 * The kubelet's device-plugins folder: a fixed path (pluginapi.DevicePluginPath), not under its
 * --root-dir. Each node has its own: the node's root is its own overlay.
 */
export const DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';
/** Where the plugin answers its health inside a GPU node: 200 once registered with the kubelet. */
export const GPU_PLUGIN_HEALTH_PORT = 8182;

export interface GpuPluginOptions {
  /** the kubelet's device-plugins folder, where kubelet.sock is */
  dir: string;
  host: GpuHost;
  /** the GPUs this plugin advertises (the node's share) */
  gpus: Gpu[];
  log: (line: string) => void;
  healthPort?: number;
  /** how often kubelet.sock and the GPUs' device nodes are looked at */
  pollMs?: number;
}

export interface RunningGpuPlugin {
  /** how many times it has registered with a kubelet (again after each kubelet restart) */
  registrations(): number;
  close(): Promise<void>;
}

interface DeviceMsg {
  ID: string;
  health: 'Healthy' | 'Unhealthy';
}

/** The ID the kubelet knows a GPU by: its UUID, else its index. */
const deviceId = (g: Gpu) => g.uuid ?? `gpu-${g.index}`;

/** Identity of the kubelet's socket: a new kubelet makes a new one (new inode, new change time). */
function socketIdentity(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return st.isSocket() ? `${st.ino}:${st.ctimeNs}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The NVIDIA device plugin (Kubernetes device plugin API v1beta1): serves DevicePlugin on
 * PLUGIN_SOCKET in the kubelet's device-plugins folder and registers `nvidia.com/gpu` with the
 * kubelet. ListAndWatch reports each GPU, Unhealthy while its device node is gone; Allocate answers
 * with the runtime's GPU injection (device nodes, driver files read-only, NVIDIA_VISIBLE_DEVICES).
 * A restarted kubelet empties the folder and makes a new kubelet.sock: the plugin then listens
 * again and registers again.
 */
export async function runGpuDevicePlugin(opts: GpuPluginOptions): Promise<RunningGpuPlugin> {
  const pkg = devicePluginPackage();
  const kubeletSocket = join(opts.dir, 'kubelet.sock');
  const ownSocket = join(opts.dir, PLUGIN_SOCKET);
  const byId = new Map(opts.gpus.map((g) => [deviceId(g), g]));
  const health = (): DeviceMsg[] => opts.gpus.map((g) => ({ ID: deviceId(g), health: existsSync(g.device.hostPath) ? 'Healthy' : 'Unhealthy' }));
  let last = JSON.stringify(health());
  const watchers = new Set<ServerWritableStream<unknown, { devices: DeviceMsg[] }>>();

  const server = new Server();
  server.addService(pkg.DevicePlugin.service, {
    GetDevicePluginOptions: (_call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => done(null, { preStartRequired: false, getPreferredAllocationAvailable: false }),
    ListAndWatch: (call: ServerWritableStream<unknown, { devices: DeviceMsg[] }>) => {
      watchers.add(call);
      call.write({ devices: health() });
      call.on('cancelled', () => watchers.delete(call));
      call.on('close', () => watchers.delete(call));
    },
    Allocate: (call: ServerUnaryCall<{ containerRequests: { devicesIds: string[] }[] }, unknown>, done: sendUnaryData<unknown>) => {
      const responses = [];
      for (const req of call.request.containerRequests) {
        const unknown = req.devicesIds.find((id) => !byId.has(id));
        if (unknown !== undefined) {
          done({ code: status.INVALID_ARGUMENT, details: `Allocate: unknown device ${unknown}: this plugin advertises ${[...byId.keys()].join(', ')}` } as ServiceError);
          return;
        }
        const inj = gpuInjection(opts.host, opts.gpus.filter((g) => req.devicesIds.includes(deviceId(g))));
        responses.push({
          envs: inj.env,
          mounts: inj.files.map((f) => ({ containerPath: f.path, hostPath: f.hostPath, readOnly: true })),
          devices: inj.devices.map((d) => ({ containerPath: d.path, hostPath: d.hostPath, permissions: 'rw' })),
        });
        opts.log(`Allocate ${req.devicesIds.join(',')}: ${inj.devices.map((d) => d.path).join(' ')}`);
      }
      done(null, { containerResponses: responses });
    },
    GetPreferredAllocation: (_call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => done({ code: status.UNIMPLEMENTED, details: 'GetPreferredAllocation: not offered (getPreferredAllocationAvailable is false)' } as ServiceError),
    PreStartContainer: (_call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => done(null, {}),
  });

  const register = () =>
    new Promise<void>((resolve, reject) => {
      const client = new pkg.Registration(`unix://${kubeletSocket}`, credentials.createInsecure());
      const request = { version: 'v1beta1', endpoint: PLUGIN_SOCKET, resourceName: GPU_RESOURCE, options: { preStartRequired: false, getPreferredAllocationAvailable: false } };
      (client as unknown as { Register: (r: unknown, o: unknown, cb: (e: Error | null) => void) => void }).Register(request, { deadline: Date.now() + 5000 }, (err) => {
        client.close();
        if (err) reject(err);
        else resolve();
      });
    });

  let listener: UnixGrpcListener | undefined;
  let kubelet: string | undefined;
  let registrations = 0;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const now = JSON.stringify(health());
      if (now !== last) {
        last = now;
        opts.log(`devices: ${now}`);
        for (const w of watchers) w.write({ devices: JSON.parse(now) });
      }
      const id = socketIdentity(kubeletSocket);
      if (id === undefined || (id === kubelet && existsSync(ownSocket))) return;
      // A new kubelet removed every socket of the folder: listen again before registering.
      listener?.close();
      listener = await listenUnix(server, ownSocket);
      await register();
      kubelet = id;
      registrations += 1;
      opts.log(`registered ${GPU_RESOURCE} (${[...byId.keys()].join(', ') || 'no GPU'}) with the kubelet at ${kubeletSocket} (registration ${registrations})`);
    } catch (err) {
      opts.log(`registering with the kubelet at ${kubeletSocket} failed (${(err as Error).message}): trying again`);
    } finally {
      busy = false;
    }
  };
  await tick();
  const timer = setInterval(() => void tick(), opts.pollMs ?? 1000);
  const healthServer = createServer((_req, res) => res.writeHead(kubelet !== undefined ? 200 : 503).end());
  await new Promise<void>((resolve) => healthServer.listen(opts.healthPort ?? GPU_PLUGIN_HEALTH_PORT, '127.0.0.1', resolve));
  return {
    registrations: () => registrations,
    close: async () => {
      clearInterval(timer);
      healthServer.close();
      for (const w of watchers) w.end();
      listener?.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}
