export { mountNodeRootfs, nodeRootfsPaths } from './rootfs.js';
export { nodeSpec, nodeProcessCgroup, writeNodeBundle } from './spec.js';
export { bootNode, writeNodeComponents, shadowGlobalSysctls } from './boot.js';
export { startNode, nodeEntry, removeNodeContainers, nodeRuntimeRoot, nodeContainerId, defaultNodeRuntime, recordedNodeRuntime, deleteNodeContainer, terminateNodeContainer } from './container.js';
export type { StartNodeOptions } from './container.js';
export { nodeCriConfig, clusterImageDir, startNodeCri } from './cri.js';
export { execInNode } from './exec.js';
