export { StreamingServer, StreamingAddressError, type StreamingServerOptions } from './server.js';
export { TerminalResizes, type StreamingBackend, type SessionIO, type TerminalSize } from './backend.js';
export { StreamingRequestError, type AttachRequest, type ExecRequest, type PortForwardRequest } from './requests.js';
export { TooManyPendingRequestsError } from './token-cache.js';
export { HostStreamingBackend } from './host-backend.js';
