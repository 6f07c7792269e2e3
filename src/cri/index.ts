export { loadCriConfig, parseCriConfig, DEFAULT_CONFIG } from './config.js';
export type { CriConfig, RegistryAuth } from './config.js';
export { startCriServer } from './server/index.js';
export type { RunningCriServer } from './server/index.js';
export { criClient } from './client.js';
export type { CriClient, CriCall } from './client.js';
export { createLogger } from './log.js';
export type { Logger, LogLevel } from './log.js';
export { CriConfigError, CriRequestError } from './errors.js';
