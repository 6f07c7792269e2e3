import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** The CRI .proto ships in the package under src/cri/proto; dist/src/cri/proto.js resolves it from there. */
export const PROTO_PATH = fileURLToPath(new URL('../../../src/cri/proto/api.proto', import.meta.url));

let definition: PackageDefinition | undefined;

/**
 * runtime.v1 as JavaScript objects: camelCase fields, enums as names, 64-bit integers as decimal
 * strings (nanosecond times do not fit a double), every field present with its default.
 */
export function criDefinition(): PackageDefinition {
  definition ??= loadSync(PROTO_PATH, { keepCase: false, longs: String, enums: String, defaults: true, arrays: true, objects: true });
  return definition;
}

export interface CriPackage {
  RuntimeService: ServiceClientConstructor;
  ImageService: ServiceClientConstructor;
}

export function criPackage(): CriPackage {
  const root = loadPackageDefinition(criDefinition()) as GrpcObject;
  return (root.runtime as GrpcObject).v1 as unknown as CriPackage;
}
