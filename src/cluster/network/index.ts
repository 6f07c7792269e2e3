export { addBridge, attachNode, addNodeNetns, clusterLinks, clusterNetns, removeClusterLinks, removeClusterNetns } from './links.js';
export { addClusterRules, removeClusterRules, clusterChains } from './iptables.js';
export { KUBELET_SYSCTLS, readSysctl, recordHostSysctls, restoreHostSysctls } from './sysctl.js';
export { defaultRouteDevices, enableUplinkForwarding, restoreUplinkForwarding } from './uplink.js';
export { portsInUse } from './host-ports.js';
