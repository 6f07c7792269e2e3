export { mountNodeRootfs, nodeRootfsPaths } from './rootfs.js';
export { nodeSpec, nodeProcessCgroup, writeNodeBundle } from './spec.js';
export { bootNode, writeNodeComponents, shadowGlobalSysctls } from './boot.js';
