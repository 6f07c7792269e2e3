export { clusterApi, preloadApiLibrary, apiError, apiStatus, type ClusterApi } from './client.js';
export { watchUntil, type WatchUntil, type ApiObject } from './watch.js';
export { waitForNodes, waitForPods, nodeReady, labelNode, deleteNodeObject } from './nodes.js';
