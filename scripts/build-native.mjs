// Build tspod's C parts with the system C compiler: the launcher (src/launcher/tspod.c) into
// dist/tspod, which bin/tspod links to, the port forwarder (src/net/portfwd.c) into dist/tspod-portfwd, and the small Node-API addon (src/sys/native/tspod_sys.c)
// into dist/native/tspod_sys.node, against Node's own headers (node_api.h, in every Node install).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const candidates = [
  path.resolve(path.dirname(process.execPath), '../include/node'),
  path.join(process.config.variables.node_prefix ?? '/usr', 'include/node'),
  '/usr/include/node',
];
const include = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
if (!include) {
  console.error(`Error: Node's headers (node_api.h) are not in ${candidates.join(', ')}: install them with your Node.js (Debian: the nodejs or libnode-dev package)`);
  process.exit(1);
}
const cc = process.env.CC || 'cc';
fs.mkdirSync('dist/native', { recursive: true });
function compile(source, args) {
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Werror', ...args, source], { stdio: 'inherit' });
  } catch {
    console.error(`Error: ${cc} could not build ${source}: install a C compiler (Debian: gcc libc6-dev)`);
    process.exit(1);
  }
}
compile('src/launcher/tspod.c', ['-o', 'dist/tspod']);
compile('src/net/portfwd.c', ['-pthread', '-o', 'dist/tspod-portfwd']);
compile('src/sys/native/tspod_sys.c', ['-fPIC', '-shared', `-I${include}`, '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=tspod_sys', '-o', 'dist/native/tspod_sys.node']);
