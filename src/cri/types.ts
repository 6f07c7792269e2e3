/**
 * The runtime.v1 messages the services read, as proto-loader decodes them (camelCase, enums as
 * names, int64 as strings, every field present). Only the fields sifkube uses are spelled out.
 */
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort: number;
  hostIp: string;
}

export interface NamespaceOption {
  network: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
  pid: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
  ipc: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
  targetId: string;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null;
  hostname: string;
  logDirectory: string;
  dnsConfig: { servers: string[]; searches: string[]; options: string[] } | null;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroupParent: string;
    securityContext: { namespaceOptions: NamespaceOption | null; privileged: boolean } | null;
    sysctls: Record<string, string>;
  } | null;
}
