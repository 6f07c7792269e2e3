import { SifkubeError } from '../errors.js';

/** A cluster config file (or flag) has a bad field; the message names the field and the fix. */
export class ClusterConfigError extends SifkubeError {
  constructor(source: string, field: string, problem: string, fix: string) {
    super(`${source}: ${field}: ${problem}: ${fix}`, 80);
  }
}

/** A cluster with that name already exists. */
export class ClusterExistsError extends SifkubeError {
  constructor(name: string) {
    super(`cluster ${JSON.stringify(name)} already exists: pick another --name or delete it first with \`sifkube delete --name ${name}\``, 81);
  }
}

/** No cluster with that name. */
export class ClusterNotFoundError extends SifkubeError {
  constructor(name: string) {
    super(`no cluster named ${JSON.stringify(name)}: list the clusters with \`sifkube list\``, 82);
  }
}

/** A node name that the cluster does not have. */
export class UnknownNodeError extends SifkubeError {
  constructor(cluster: string, node: string, known: string[]) {
    super(`cluster ${JSON.stringify(cluster)} has no node ${JSON.stringify(node)}: use one of ${known.join(', ')}`, 83);
  }
}

/** A subnet overlaps a host route or another cluster. */
export class SubnetClashError extends SifkubeError {
  constructor(field: string, subnet: string, other: string) {
    super(`${field} ${subnet} overlaps ${other}: choose another subnet in the cluster config (networking.${field})`, 84);
  }
}

/** A Kubernetes binary is nowhere sifkube looks. */
export class KubeBinaryMissingError extends SifkubeError {
  constructor(binary: string, version: string, where: string[], fix?: string) {
    super(
      `${binary} (${version}) not found in ${where.join(', ')}: ${fix ?? 'pass --kube-bin-dir DIR with it, fill the cache with `sifkube kube import DIR` or `sifkube kube fetch`, or let sifkube download it (dl.k8s.io, or a mirror in SIFKUBE_KUBE_RELEASE_URL)'}`,
      85,
    );
  }
}

/** A download did not match its published SHA-256; nothing was kept. */
export class ChecksumMismatchError extends SifkubeError {
  constructor(url: string, expected: string, actual: string) {
    super(`${url}: SHA-256 ${actual} does not match the published ${expected}; the file was deleted: retry, or check SIFKUBE_KUBE_RELEASE_URL and your proxy`, 86);
  }
}

/** A download failed (network, HTTP status). */
export class DownloadError extends SifkubeError {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`${url}: download failed: ${reason}: check the network (or SIFKUBE_KUBE_RELEASE_URL), or use --kube-bin-dir / \`sifkube kube import\` offline`, 87);
  }
}

/** A Kubernetes version string or a binary's version is wrong. */
export class KubeVersionError extends SifkubeError {
  constructor(message: string) {
    super(message, 88);
  }
}

/** Something a cluster config asks for that sifkube does not do yet. */
export class NotSupportedYetError extends SifkubeError {
  constructor(what: string) {
    super(`not supported yet: ${what}`, 89);
  }
}

/** A host command that sets up or tears down the cluster failed. */
export class HostSetupError extends SifkubeError {
  constructor(what: string, detail: string) {
    super(`${what} failed: ${detail}: run \`sifkube doctor\`, then \`sifkube delete\` to clean up`, 90);
  }
}

/** A state file written by another sifkube version, or damaged. */
export class ClusterStateError extends SifkubeError {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}: delete the cluster with \`sifkube delete\` and create it again`, 91);
  }
}

/** delete could not remove everything; the message lists what is left. */
export class CleanupIncompleteError extends SifkubeError {
  constructor(cluster: string, left: string[]) {
    super(`cluster ${JSON.stringify(cluster)}: could not remove ${left.join('; ')}: stop what uses them and run \`sifkube delete --name ${cluster}\` again`, 92);
  }
}

/** A call to the cluster's Kubernetes API failed. */
export class KubernetesApiError extends SifkubeError {
  constructor(what: string, detail: string) {
    super(`${what} failed: ${detail}: check \`sifkube status\` and the logs (\`sifkube logs export DIR\`)`, 93);
  }
}

/** init failed after the host was touched: the cause's message and exit code, and where its logs went. */
export class InitFailedError extends SifkubeError {
  constructor(cause: Error, note: string) {
    super(`${cause.message} (${note})`, cause instanceof SifkubeError ? cause.exitCode : 1, { cause });
  }
}

/** The cluster did not reach a state in time (init --wait, node add). */
export class ClusterTimeoutError extends SifkubeError {
  constructor(what: string, ms: number, fix: string) {
    super(`${what} did not happen within ${Math.round(ms / 1000)} s: ${fix}`, 94);
  }
}

/** A node whose container is not running (stopped cluster, or removed). */
export class NodeNotRunningError extends SifkubeError {
  constructor(cluster: string, node: string) {
    super(`node ${JSON.stringify(node)} of cluster ${JSON.stringify(cluster)} is not running: start the cluster with \`sifkube start --name ${cluster}\``, 95);
  }
}

/** A file given to `image load` that cannot be loaded. */
export class ImageLoadError extends SifkubeError {
  constructor(file: string, problem: string, fix: string) {
    super(`${file}: ${problem}: ${fix}`, 96);
  }
}

/** A mapped host port that a process of the host already holds. */
export class HostPortInUseError extends SifkubeError {
  constructor(port: string, field: string) {
    super(`host port ${port} (${field}) is already in use on the host (a process listens there): stop that process or pick another hostPort (--port HOST:NODEPORT)`, 97);
  }
}

/** A --persistent folder that cannot hold a cluster's state. */
export class PersistentDirError extends SifkubeError {
  constructor(dir: string, problem: string, fix: string) {
    super(`--persistent ${dir}: ${problem}: ${fix}`, 98);
  }
}
