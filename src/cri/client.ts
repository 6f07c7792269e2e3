import { credentials, Metadata, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { criPackage } from './proto.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- responses are proto-loader objects */
export type CriCall = (request?: Record<string, unknown>) => Promise<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A runtime.v1 client over a unix socket: each method returns a promise; streams resolve to all their messages. */
export interface CriClient {
  runtime: Record<string, CriCall>;
  image: Record<string, CriCall>;
  close(): void;
}

function promisify(client: Client, streamingMethods: Set<string>): Record<string, CriCall> {
  const out: Record<string, CriCall> = {};
  const anyClient = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  const service = (client.constructor as unknown as { service: Record<string, { responseStream: boolean }> }).service;
  for (const name of Object.keys(service)) {
    if (streamingMethods.has(name)) {
      out[name] = (req = {}) =>
        new Promise((resolve, reject) => {
          const items: unknown[] = [];
          const stream = anyClient[name].call(client, req, new Metadata()) as ClientReadableStream<unknown>;
          stream.on('data', (m) => items.push(m));
          stream.on('error', reject);
          stream.on('end', () => resolve(items));
        });
    } else {
      out[name] = (req = {}) =>
        new Promise((resolve, reject) => {
          anyClient[name].call(client, req, (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
        });
    }
  }
  return out;
}

export function criClient(socket: string): CriClient {
  const pkg = criPackage();
  const runtime = new pkg.RuntimeService(`unix://${socket}`, credentials.createInsecure());
  const image = new pkg.ImageService(`unix://${socket}`, credentials.createInsecure());
  const streaming = (svc: { service: Record<string, { responseStream: boolean }> }) =>
    new Set(Object.entries(svc.service).filter(([, d]) => d.responseStream).map(([n]) => n));
  return {
    runtime: promisify(runtime, streaming(pkg.RuntimeService)),
    image: promisify(image, streaming(pkg.ImageService)),
    close: () => {
      runtime.close();
      image.close();
    },
  };
}
