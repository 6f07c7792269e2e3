import { Command } from '@oclif/core';
import { SifkubeError } from '../errors.js';

/**
 * Base of every sifkube command: an expected failure (a SifkubeError) is printed as one line, with
 * the error's own exit code and no stack trace; anything else is a bug and keeps oclif's report.
 */
export abstract class SifkubeCommand extends Command {
  protected async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof SifkubeError) {
      process.stderr.write(`sifkube: ${err.message}\n`);
      this.exit(err.exitCode);
    }
    return super.catch(err);
  }

  /** Prints a value as JSON (for `--json` outputs that are not oclif's envelope). */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}
