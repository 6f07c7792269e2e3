// CreateContainer with and without requireSigned: two CRI servers in this process, the same signed
// SIFs (busybox, and busybox with 100 MiB of random data), creations interleaved. The first creation
// of an image under the policy verifies it (one read); later ones reuse the verdict. Then the policy
// check alone, first and cached, in this process (BENCH_AA=1: both servers without the policy, to
// see the noise of the comparison).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/cri/index.js';
import { SignedImagePolicy } from '../../src/cri/images/policy.js';
import { buildSif, newKey, signSif } from '../../src/sif/index.js';
import { deleteLink, podConfig, removeAllPods, removeCgroupParent, startTestCri, writeBridgeConflist, type TestCri } from '../../test/helpers/cri.js';
import { busyboxRootfs } from '../../test/helpers/registry.js';
import { median } from '../sif/common.js';

const RUNS = Number(process.env.BENCH_N ?? 15);
const work = mkdtempSync(join(tmpdir(), 'sifkube-bench-signed-'));
const cgroupParent = `/sifkube-bench-${randomBytes(3).toString('hex')}`;
const servers: { cri: TestCri; bridge: string; sandbox: string }[] = [];

async function ms(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

try {
  const key = await newKey({ type: 'ecdsa', dir: join(work, 'keys') });
  const images: Record<string, string> = {};
  for (const [name, extra] of [['busybox', 0], ['busybox+100MiB', 100 * 1024 * 1024]] as const) {
    const rootfs = join(work, `rootfs-${extra}`);
    busyboxRootfs(rootfs);
    if (extra) writeFileSync(join(rootfs, 'blob'), randomBytes(extra));
    images[name] = join(work, `${extra}.sif`);
    buildSif({ rootfs, out: images[name], deterministic: true, imageConfig: { cmd: ['sleep', '1000'] } });
    await signSif(images[name], { keys: [key.privateFile] });
  }
  for (const extra of process.env.BENCH_AA ? [{}, {}] : [{}, { requireSigned: join(work, 'keys') }]) {
    const cri = await startTestCri(extra);
    const { bridge } = writeBridgeConflist(cri);
    const sandbox = (await cri.client.runtime.RunPodSandbox({ config: podConfig(`bench${servers.length}`, { linux: { cgroupParent } }) })).podSandboxId;
    servers.push({ cri, bridge, sandbox });
  }
  let n = 0;
  const create = async (s: (typeof servers)[number], image: string) => {
    n += 1;
    let id = '';
    const t = await ms(async () => {
      id = (await s.cri.client.runtime.CreateContainer({ podSandboxId: s.sandbox, config: { metadata: { name: `c${n}`, attempt: 0 }, image: { image } }, sandboxConfig: {} })).containerId;
    });
    await s.cri.client.runtime.RemoveContainer({ containerId: id });
    return t;
  };
  for (const [name, file] of Object.entries(images)) {
    const image = `local.file${file}`;
    for (const s of servers) await s.cri.client.image.PullImage({ image: { image } });
    const first = [await create(servers[0], image), await create(servers[1], image)];
    const later: number[][] = [[], []];
    // The order alternates: the second of two back-to-back creations is not the same as the first.
    for (let i = 0; i < RUNS; i++) for (const j of i % 2 ? [1, 0] : [0, 1]) later[j].push(await create(servers[j], image));
    const [off, on] = [median(later[0]), median(later[1])];
    const policy = new SignedImagePolicy(join(work, 'keys'), createLogger('error'));
    const rec = { id: `sha256:${name}`, repoTags: [], repoDigests: [], size: 0, sif: file, config: {}, external: true };
    const check = await ms(() => policy.check(image, rec));
    const cached = (await ms(async () => {
      for (let i = 0; i < 10000; i++) await policy.check(image, rec);
    })) / 10000;
    console.log(`| ${name}, policy check alone | first ${check.toFixed(1)} ms | cached ${(cached * 1000).toFixed(1)} µs |`);
    console.log(`| ${name} | first: ${first[0].toFixed(1)} ms without, ${first[1].toFixed(1)} ms with the policy | median of ${RUNS} later: ${off.toFixed(1)} ms without, ${on.toFixed(1)} ms with (${(on - off).toFixed(1)} ms) |`);
  }
} finally {
  for (const s of servers) {
    await removeAllPods(s.cri).catch(() => undefined);
    await s.cri.dispose();
    deleteLink(s.bridge);
  }
  removeCgroupParent(cgroupParent);
  rmSync(work, { recursive: true, force: true });
}
