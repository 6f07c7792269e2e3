import { Listr } from 'listr2';

export interface Step<S extends string = string> {
  id: S;
  title: string;
}

export interface StepsOptions<T> {
  /** Why a step was never reached, from the operation's result (undefined when it failed). */
  notReached?: (result: T | undefined) => string;
  /** The title a step ends with, once the operation has passed it. */
  doneTitle?: (step: Step, result: T | undefined) => string | undefined;
  /** The list shows only the failure's first line (the command prints it whole once). */
  firstLineOfFailure?: boolean;
  /** Leave Ctrl-C to the operation (it cleans up) instead of listr2, which exits at once. */
  operationHandlesSignals?: boolean;
}

/**
 * Shows a long operation that reports its steps in order (`onStep(id)`) as a listr2 task list, each
 * step showing the latest line of output (`onOutput(line)`): a step is done when a later one starts
 * or the operation ends; the step running when it fails shows the failure, the ones never reached are
 * skipped. Resolves or rejects as the operation does.
 */
export async function withSteps<S extends string, T>(
  steps: readonly Step<S>[],
  run: (onStep: (id: S) => void, onOutput: (line: string) => void) => Promise<T>,
  opts: StepsOptions<T> = {},
): Promise<T> {
  let at = -1;
  let line = '';
  let finished = false;
  let outcome: { result?: T; failure?: { err: unknown } } = {};
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => (wake = r));
  const signal = () => {
    wake();
    changed = new Promise<void>((r) => (wake = r));
  };
  const until = async (cond: () => boolean) => {
    while (!cond()) await changed;
  };
  const op = run(
    (id) => {
      at = Math.max(at, steps.findIndex((s) => s.id === id));
      line = '';
      signal();
    },
    (l) => {
      line = l;
      signal();
    },
  ).then(
    (result) => (outcome = { result }),
    (err: unknown) => (outcome = { failure: { err } }),
  );
  void op.finally(() => {
    finished = true;
    signal();
  });
  const list = new Listr(
    steps.map((s, i) => ({
      title: s.title,
      skip: async () => {
        await until(() => at >= i || finished);
        return at < i && (opts.notReached?.(outcome.result) ?? true);
      },
      task: async (_: unknown, task: { output: string; title: string }) => {
        while (!(at > i || finished)) {
          if (line) task.output = line;
          await changed;
        }
        const { failure } = outcome;
        if (failure && at === i) throw opts.firstLineOfFailure ? new Error(String((failure.err as Error).message ?? failure.err).split('\n')[0]) : failure.err;
        const done = opts.doneTitle?.(s, outcome.result);
        if (done) task.title = done;
      },
    })),
    { exitOnError: true, registerSignalListeners: !opts.operationHandlesSignals, rendererOptions: { collapseErrors: false } },
  );
  await list.run().catch(() => undefined);
  await op;
  if (outcome.failure) throw outcome.failure.err;
  return outcome.result as T;
}
