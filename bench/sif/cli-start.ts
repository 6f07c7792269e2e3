// CLI start-up: `sifkube --version` (fast path, no oclif) and `sifkube sif list` (oclif) vs `node -e 0`.
import { fileURLToPath } from 'node:url';
import { BIN, row, run, time } from './common.js';

const fixture = fileURLToPath(new URL('../../../../shared/fixtures/sif/sylabs/images/one-group.sif', import.meta.url));
const node = time(20, () => run(process.execPath, ['-e', '0']));
row('`sifkube --version`', time(20, () => run(process.execPath, [BIN, '--version'])), node, 'node -e 0');
row('`sifkube sif list one-group.sif`', time(20, () => run(process.execPath, [BIN, 'sif', 'list', fixture])), node, 'node -e 0');
