export { clusterApi, preloadApiLibrary, apiError, apiStatus, type ClusterApi } from './client.js';
export { watchCollection, watchUntil, type Collection, type ApiObject } from './watch.js';
export { waitForNodes, ensureDefaultServiceAccount, nodeReady, labelNode, deleteNodeObject, deleteNodePods } from './nodes.js';
