import { SifkubeError } from '../errors.js';

export class UnknownExampleError extends SifkubeError {
  constructor(name: string, known: string[]) {
    super(`there is no example ${JSON.stringify(name)}: use one of ${known.join(', ')} (sifkube example list)`, 2);
  }
}

/** The examples' files (images/) are not where the installation keeps them. */
export class ExampleFilesError extends SifkubeError {
  constructor(path: string) {
    super(`${path} is missing: the examples ship in the images/ folder of sifkube's package; reinstall sifkube or run it from its source tree`, 105);
  }
}

/** An example's Deployments did not become ready in time. */
export class ExampleNotReadyError extends SifkubeError {
  constructor(example: string, cause: string) {
    super(`example ${example} did not become ready: ${cause} (see \`sifkube kubectl -- describe pods -l sifkube.io/example=${example}\`)`, 106);
  }
}
