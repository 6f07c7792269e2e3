export { nodeLayout } from './layout.js';
export type { NodeLayout } from './layout.js';
export { kubeletConfiguration, kubeletArgs } from './kubelet.js';
export { etcdArgs, apiServerArgs, controllerManagerArgs, schedulerArgs, kubeProxyConfiguration, kubeProxyArgs, ETCD_PORTS } from './control-plane.js';
export type { EtcdPorts } from './control-plane.js';
export { cniConfList, CNI_NETWORK_NAME } from './cni.js';
export { writeNodeFiles } from './node-files.js';
