export { HELPER_PATH, HelperMissingError, helperPath } from './native.js';
export { spawnInPty, type PtyProcess } from './pty-process.js';
export { forwardInNetns, PortNotListeningError } from './netns-connect.js';
