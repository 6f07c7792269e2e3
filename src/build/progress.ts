/**
 * `sifkube build`'s progress: one listr2 task per build step (bootstrap, %setup, %files, %post per
 * stage, then metadata, %test, the SIF, signing), each showing its latest output line. A step is
 * done when a later one starts or the build ends; steps never reached (a cache hit) are skipped.
 */
import { Listr } from 'listr2';
import { buildImage, planBuild, type BuildImageOptions, type BuildResult } from './index.js';

async function quietRuntime(show: (line: string) => void): Promise<void> {
  const { setLogSink } = await import('../runtime/index.js');
  setLogSink((level, message) => level !== 'debug' && show(`runtime: ${message}`));
}

export async function buildWithProgress(opts: BuildImageOptions): Promise<BuildResult> {
  const steps = planBuild(opts);
  let at = -1;
  let line = '';
  let finished = false;
  let outcome: { result?: BuildResult; err?: unknown } = {};
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => (wake = r));
  const signal = () => {
    wake();
    changed = new Promise<void>((r) => (wake = r));
  };
  const until = async (cond: () => boolean) => {
    while (!cond()) await changed;
  };
  // Ctrl-C or SIGTERM stops the build where it is; it still removes everything it made.
  const interrupt = new AbortController();
  const abort = () => interrupt.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  const build = buildImage({
    ...opts,
    signal: interrupt.signal,
    onStep: (id) => {
      // The runtime's warnings (seccomp rules this kernel lacks) belong to the step's output, not the
      // screen. The runtime is loaded only once there is something to build (not on a cache hit).
      if (id !== 'cache' && at <= 0) void quietRuntime((l) => {
        line = l;
        signal();
      });
      at = Math.max(at, steps.findIndex((s) => s.id === id));
      line = '';
      signal();
    },
    onOutput: (l) => {
      line = l;
      signal();
    },
  }).then(
    (result) => (outcome = { result }),
    (err: unknown) => (outcome = { err }),
  );
  void build.finally(() => {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
    finished = true;
    signal();
  });
  const list = new Listr(
    steps.map((s, i) => ({
      title: s.title,
      skip: async () => {
        await until(() => at >= i || finished);
        return at < i && (outcome.result?.cached ? 'not needed: the image came from the cache' : 'not reached');
      },
      task: async (_: unknown, task: { output: string; title: string }) => {
        while (!(at > i || finished)) {
          if (line) task.output = line;
          await changed;
        }
        // The list shows the failure's first line; the command prints it whole (with the output) once.
        if (outcome.err && at === i) throw new Error(String((outcome.err as Error).message ?? outcome.err).split('\n')[0]);
        if (s.id === 'cache' && outcome.result?.cached) task.title = `${s.title}: the same definition and inputs were built before, image taken from the cache`;
      },
    })),
    // Ctrl-C is the build's to handle (it cleans up), not listr2's (which exits at once).
    { exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  await list.run().catch(() => undefined);
  await build;
  if (outcome.err) throw outcome.err;
  return outcome.result!;
}
