export { initCluster, resolveBinaries, nodeComponents, joinNodes, INIT_STEPS } from './init.js';
export type { InitOptions, InitStep } from './init.js';
export { bootNodes } from './nodes.js';
export { until, criAnswers, apiServerReady } from './wait.js';
export { planNewWorker, addWorkers, addKubeWorkers, removeNode } from './node-ops.js';
export { stopCluster, startCluster } from './stop-start.js';
