/**
 * The base of every expected failure in sifkube. Each failure class is a subclass with its own exit
 * code; its message names the bad input and the fix. The CLI prints the message alone (no stack).
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
