export { KUBE_BINARIES, binaryUrl, releaseBaseUrl, cacheRoot, versionCacheDir } from './release.js';
export type { KubeBinary } from './release.js';
export { downloadVerified, fetchSha256 } from './download.js';
export { binaryVersion, minorOf } from './version.js';
export { resolveKubernetes, resolveEtcd, importKubernetes } from './resolve.js';
export type { KubeDistribution, ResolveOptions, BinarySource } from './resolve.js';
export { cachedReleases, kubernetesBinariesCheck } from './availability.js';
