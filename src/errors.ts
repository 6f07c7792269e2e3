/**
 * The base of every expected failure in sifkube. Each failure class is a subclass with its own exit
 * code; its message names the bad input and the fix. The CLI prints the message alone (no stack).
 *
 * Exit codes by layer, so a script can tell failures apart: 1 generic, 2 usage, 4 not root,
 * 5 native helper missing, 10–29 runtime, 30–39 CRI streaming, 40–59 SIF, 60–64 seccomp and cgroups,
 * 65–79 CRI, 80–99 cluster.
 */
export class SifkubeError extends Error {
  /** Process exit code the CLI uses for this failure class (2..125). */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** The command needs root and the caller is not root. */
export class NotRootError extends SifkubeError {
  constructor(what: string) {
    super(`${what} needs root: run it as root (for example with sudo)`, 4);
  }
}

/** Bad command-line usage that oclif's own parser cannot catch. */
export class UsageError extends SifkubeError {
  constructor(message: string) {
    super(message, 2);
  }
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new NotRootError(what);
}
