// A built image runs in a pod of sifkube's CRI as a kubelet would run it (local.file/, no command):
// the OCI entrypoint /.singularity.d/actions/run sources the environment scripts and runs the
// runscript; a command given by the pod replaces it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteLink, podConfig, removeAllPods, startTestCri, writeBridgeConflist } from '../helpers/cri.js';
import { buildDir } from './helpers.js';

const DEF = `Bootstrap: scratch
%files
    busybox /bin/busybox
    busybox /bin/sh
%post
    /bin/busybox --install -s /bin
    echo "export FROM_POST=post" >> $SINGULARITY_ENVIRONMENT
%environment
    export GREETING="hello from %environment"
    export PATH="/opt/tools:$PATH"
%runscript
    echo "$GREETING, $FROM_POST, $PATH"
`;

async function waitExited(cri: Awaited<ReturnType<typeof startTestCri>>, id: string): Promise<{ exitCode: number; logPath: string }> {
  for (let i = 0; i < 300; i++) {
    const { status } = await cri.client.runtime.ContainerStatus({ containerId: id });
    if (status.state === 'CONTAINER_EXITED') return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`container ${id} did not exit`);
}

test('a pod runs the runscript with the image environment; a pod command replaces it', async () => {
  const b = buildDir();
  const cri = await startTestCri();
  const net = writeBridgeConflist(cri);
  const ipForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  try {
    b.write('app.def', DEF);
    await b.build('app.def', 'app.sif', { noCache: true });
    const image = (await cri.client.image.PullImage({ image: { image: `local.file${join(b.dir, 'app.sif')}` } })).imageRef;
    const logDirectory = join(b.dir, 'logs');
    const { podSandboxId } = await cri.client.runtime.RunPodSandbox({ config: podConfig('buildpod', { logDirectory }) });
    const run = async (name: string, command: string[]) => {
      const { containerId } = await cri.client.runtime.CreateContainer({ podSandboxId, config: { metadata: { name, attempt: 0 }, image: { image }, logPath: `${name}.log`, command }, sandboxConfig: {} });
      await cri.client.runtime.StartContainer({ containerId });
      const st = await waitExited(cri, containerId);
      await new Promise((r) => setTimeout(r, 100));
      const out = readFileSync(st.logPath, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
      return { code: st.exitCode, out };
    };
    const dflt = await run('dflt', []);
    assert.is(dflt.code, 0);
    assert.equal(dflt.out, ['hello from %environment, post, /opt/tools:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    const cmd = await run('cmd', ['/bin/sh', '-c', 'echo own command']);
    assert.equal(cmd.out, ['own command']);
  } finally {
    await removeAllPods(cri).catch(() => undefined);
    await cri.dispose();
    deleteLink(net.bridge);
    writeFileSync('/proc/sys/net/ipv4/ip_forward', ipForward);
    b.done();
  }
});

test.run();
