/**
 * `sifkube build`'s progress: one step per build step (bootstrap, %setup, %files, %post per stage,
 * then metadata, %test, the SIF, signing), each showing its latest output line; steps never reached
 * (a cache hit) are skipped.
 */
import { buildImage, planBuild, type BuildImageOptions, type BuildResult } from '../build/index.js';
import { withSteps } from './progress.js';

async function quietRuntime(show: (line: string) => void): Promise<void> {
  const { setLogSink } = await import('../runtime/index.js');
  setLogSink((level, message) => level !== 'debug' && show(`runtime: ${message}`));
}

export async function buildWithProgress(opts: BuildImageOptions): Promise<BuildResult> {
  // Ctrl-C or SIGTERM stops the build where it is; it still removes everything it made.
  const interrupt = new AbortController();
  const abort = () => interrupt.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  let runtimeQuiet = false;
  try {
    return await withSteps(
      planBuild(opts),
      (onStep, onOutput) =>
        buildImage({
          ...opts,
          signal: interrupt.signal,
          onStep: (id) => {
            // The runtime's warnings (seccomp rules this kernel lacks) belong to the step's output, not
            // the screen. The runtime is loaded only once there is something to build (not on a cache hit).
            if (id !== 'cache' && !runtimeQuiet) {
              runtimeQuiet = true;
              void quietRuntime(onOutput);
            }
            onStep(id);
          },
          onOutput,
        }),
      {
        notReached: (r) => (r?.cached ? 'not needed: the image came from the cache' : 'not reached'),
        doneTitle: (s, r) => (s.id === 'cache' && r?.cached ? `${s.title}: the same definition and inputs were built before, image taken from the cache` : undefined),
        firstLineOfFailure: true,
        operationHandlesSignals: true,
      },
    );
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}
