import { SifkubeError } from '../errors.js';

/** A definition file that cannot be built as written: names the file, the line and the fix. Exit 100. */
export class DefinitionError extends SifkubeError {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: ${reason}`, 100);
  }
}

/** A build input (base image, %files source, key, output path) is missing or unusable. Exit 101. */
export class BuildInputError extends SifkubeError {
  constructor(what: string, reason: string) {
    super(`${what}: ${reason}`, 101);
  }
}

/** A build step failed: a section script, a bootstrap tool, writing the image. Exit 102. */
export class BuildStepError extends SifkubeError {
  constructor(
    readonly step: string,
    reason: string,
    /** The step's output (its last lines), shown under the message. */
    readonly output = '',
  ) {
    super(`${step}: ${reason}${output ? `\n${output}` : ''}`, 102);
  }
}
