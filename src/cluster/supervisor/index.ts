export { Supervisor, readSupervisorStatus } from './supervisor.js';
export type { ComponentSpec, ComponentStatus, ComponentPhase, SupervisorOptions, SupervisorStatusFile } from './supervisor.js';
export { probe } from './health.js';
export type { HealthCheck } from './health.js';
