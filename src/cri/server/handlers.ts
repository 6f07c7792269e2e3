import { status as GrpcStatus, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { CriRequestError } from '../errors.js';
import type { Logger } from '../log.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- requests are decoded by proto-loader; each adapter validates its own fields */
export type Unary = (req: any) => Promise<unknown> | unknown;
export type Streaming = (req: any, send: (msg: unknown) => void, signal: AbortSignal) => Promise<void>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** One adapter file's methods: unary ones return the response, streaming ones send messages. */
export interface MethodGroup {
  unary?: Record<string, Unary>;
  streaming?: Record<string, Streaming>;
}

function toStatus(err: unknown, method: string, log: Logger): { code: GrpcStatus; details: string } {
  if (err instanceof CriRequestError) {
    log.debug(`${method}: ${GrpcStatus[err.code]}: ${err.message}`);
    return { code: err.code, details: err.message };
  }
  // A bug or an unexpected host failure: answer INTERNAL, keep serving, keep the stack in the log.
  log.error(`${method}: ${(err as Error)?.stack ?? String(err)}`);
  return { code: GrpcStatus.INTERNAL, details: `${method}: ${(err as Error)?.message ?? String(err)}` };
}

/**
 * Builds a grpc-js implementation of every method of `service`: those the groups define, and an
 * explicit UNIMPLEMENTED naming the method for the rest, so no call goes unanswered.
 */
export function implement(service: ServiceDefinition, groups: MethodGroup[], log: Logger): UntypedServiceImplementation {
  const unary: Record<string, Unary> = Object.assign({}, ...groups.map((g) => g.unary ?? {}));
  const streaming: Record<string, Streaming> = Object.assign({}, ...groups.map((g) => g.streaming ?? {}));
  const impl: UntypedServiceImplementation = {};
  for (const [name, def] of Object.entries(service)) {
    if (def.responseStream) {
      const fn = streaming[name];
      impl[name] = (call: ServerWritableStream<unknown, unknown>) => {
        if (!fn) {
          call.emit('error', { code: GrpcStatus.UNIMPLEMENTED, details: `not supported yet: ${name}` });
          return;
        }
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        fn(call.request, (m) => call.write(m), abort.signal).then(
          () => call.end(),
          (err) => call.emit('error', toStatus(err, name, log)),
        );
      };
    } else {
      const fn = unary[name];
      impl[name] = (call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => {
        if (!fn) {
          done({ code: GrpcStatus.UNIMPLEMENTED, details: `not supported yet: ${name}` });
          return;
        }
        if (log.debugEnabled) log.debug(`${name} ${JSON.stringify(call.request).slice(0, 500)}`);
        Promise.resolve()
          .then(() => fn(call.request))
          .then(
            (res) => done(null, res),
            (err) => done(toStatus(err, name, log)),
          );
      };
    }
  }
  return impl;
}
