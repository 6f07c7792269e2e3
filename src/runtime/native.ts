import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SifkubeError } from '../errors.js';

/** The compiled native helper (native/build/sifkube-helper), built by `npm run build`. */
export const HELPER_PATH = fileURLToPath(new URL('../../../native/build/sifkube-helper', import.meta.url));

export class HelperMissingError extends SifkubeError {
  constructor() {
    super(`the native helper ${HELPER_PATH} is missing: run \`npm run build\` (it needs a C compiler: apt-get install -y build-essential)`, 5);
  }
}

/** The helper's path, or a clear error when it has not been built. */
export function helperPath(): string {
  if (!existsSync(HELPER_PATH)) throw new HelperMissingError();
  return HELPER_PATH;
}
