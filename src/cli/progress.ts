import { Listr } from 'listr2';

/**
 * Shows a long operation that reports its steps in order (`onStep(step)`) as a listr2 task list:
 * a step is done when a later one starts or the operation ends; the step running when it fails
 * shows the failure, the ones never reached are skipped. Resolves or rejects as the operation does.
 */
export async function withSteps<S extends string, T>(steps: readonly S[], titles: Record<S, string>, run: (onStep: (step: S) => void) => Promise<T>): Promise<T> {
  let at = -1;
  let finished = false;
  let failure: { err: unknown } | undefined;
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => (wake = r));
  const signal = () => {
    wake();
    changed = new Promise<void>((r) => (wake = r));
  };
  const until = async (cond: () => boolean) => {
    while (!cond()) await changed;
  };
  const op = run((s) => {
    at = Math.max(at, steps.indexOf(s));
    signal();
  }).then(
    (r) => r,
    (err: unknown) => {
      failure = { err };
      return undefined;
    },
  );
  void op.finally(() => {
    finished = true;
    signal();
  });
  const list = new Listr(
    steps.map((s, i) => ({
      title: titles[s],
      skip: async () => {
        await until(() => at >= i || finished);
        return at < i;
      },
      task: async () => {
        await until(() => at > i || finished);
        if (failure && at === i) throw failure.err;
      },
    })),
    { exitOnError: true, rendererOptions: { collapseErrors: false } },
  );
  await list.run().catch(() => undefined);
  const result = await op;
  if (failure) throw failure.err;
  return result as T;
}
