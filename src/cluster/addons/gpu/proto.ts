import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

/** The device plugin .proto ships in the package; dist/src/cluster/addons/gpu/proto.js resolves it from there. */
export const DEVICE_PLUGIN_PROTO = fileURLToPath(new URL('../../../../../src/cluster/addons/gpu/proto/api.proto', import.meta.url));

export interface DevicePluginPackage {
  Registration: ServiceClientConstructor;
  DevicePlugin: ServiceClientConstructor;
}

/** v1beta1 as JavaScript objects: camelCase fields, every field present with its default. */
export function devicePluginPackage(): DevicePluginPackage {
  const def = loadSync(DEVICE_PLUGIN_PROTO, { keepCase: false, longs: String, enums: String, defaults: true, arrays: true, objects: true });
  return (loadPackageDefinition(def) as GrpcObject).v1beta1 as unknown as DevicePluginPackage;
}
