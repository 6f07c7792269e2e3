import { Server, type ServiceClientConstructor } from '@grpc/grpc-js';
import { existsSync, lstatSync, mkdirSync } from 'node:fs';
import type { CriConfig } from '../config.js';
import { CriConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { criPackage } from '../proto.js';
import { createServices, type CriServices } from '../services/index.js';
import { CriStreamingBackend } from '../containers/streaming-backend.js';
import { StreamingServer } from '../streaming/index.js';
import { containerMethods } from './container.js';
import { implement } from './handlers.js';
import { imageMethods } from './image.js';
import { runtimeMethods } from './runtime.js';
import { sandboxMethods } from './sandbox.js';
import { statsMethods } from './stats.js';
import { statusMethods } from './status.js';
import { setLogSink } from '../../runtime/index.js';
import { listenUnix, type UnixGrpcListener } from '../grpc/unix-server.js';

export interface RunningCriServer {
  socket: string;
  services: CriServices;
  /** Stops accepting calls, lets the ones in flight finish, removes the socket. */
  close(): Promise<void>;
}

/** Serves runtime.v1 RuntimeService and ImageService on a unix socket. */
export async function startCriServer(config: CriConfig, socket: string, log: Logger): Promise<RunningCriServer> {
  if (existsSync(socket) && !lstatSync(socket).isSocket()) throw new CriConfigError(`${socket} exists and is not a socket: choose another --socket path`);
  for (const dir of [config.stateDir, config.runDir, config.imageDir]) mkdirSync(dir, { recursive: true });
  // The runtime runs in this process: its warnings (a clamped oom_score_adj, a seccomp syscall this
  // architecture lacks) belong in the server's log, not on its stderr.
  setLogSink((level, message) => (level === 'warning' ? log.warn : level === 'error' ? log.error : log.debug)(`runtime: ${message}`));
  const services = createServices(config, log);
  // Containers first: a half-made container is undone before the sandbox it was in is looked at.
  await services.containers.recover();
  await services.sandboxes.recover();
  await services.images.recover();
  const streaming = new StreamingServer(new CriStreamingBackend(services.containers, services.sandboxes), { address: config.streaming.address });
  try {
    await streaming.start();
  } catch (err) {
    services.containers.close();
    services.images.close();
    throw new CriConfigError(`streaming.address: ${(err as Error).message}`);
  }
  const pkg = criPackage();
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  const def = (c: ServiceClientConstructor) => c.service;
  server.addService(
    def(pkg.RuntimeService),
    implement(
      def(pkg.RuntimeService),
      [runtimeMethods(services), statusMethods(services), sandboxMethods(services, services.containers), containerMethods(services, streaming), statsMethods(services)],
      log,
    ),
  );
  server.addService(def(pkg.ImageService), implement(def(pkg.ImageService), [imageMethods(services)], log));
  let listener: UnixGrpcListener;
  try {
    listener = await listenUnix(server, socket);
  } catch (err) {
    services.containers.close();
    services.images.close();
    await streaming.stop();
    throw new CriConfigError((err as Error).message);
  }
  log.info(`CRI server listening on unix://${socket}`);
  return {
    socket,
    services,
    close: async () => {
      // Event streams never end by themselves: close them, and give calls in flight 5 s.
      services.containers.close();
      await streaming.stop();
      listener.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      // After the calls in flight: a pull still running has its folder until then.
      services.images.close();
    },
  };
}
