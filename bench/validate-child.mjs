// One measurement of bench/validate.ts, in plain node (no loader hooks), printed as JSON.
// Kinds: floor (readdir + yaml.parse of the same files), validate (runValidate from dist),
// cli (main() from dist with every command registered, as `tenantform validate` runs).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [kind, dir] = process.argv.slice(2);

function floor(parse) {
  let files = 0;
  const load = (path) => {
    parse(readFileSync(path, 'utf8'));
    files++;
  };
  load(join(dir, 'fleet.yaml'));
  const tenantsDir = join(dir, 'tenants');
  for (const slug of readdirSync(tenantsDir)) {
    load(join(tenantsDir, slug, 'tenant.yaml'));
    const wdir = join(tenantsDir, slug, 'workspaces');
    for (const name of readdirSync(wdir)) load(join(wdir, name));
  }
  return files;
}

async function validate(run) {
  const { memoryIo } = await import('../dist/cli/io.js');
  const io = memoryIo({ cwd: dir });
  const start = performance.now();
  const code = await run(io);
  const report = JSON.parse(io.out.join(''));
  if (code !== 0 || !report.fleet) throw new Error(`validate failed with exit code ${code}: ${io.out.join('').slice(0, 2000)}`);
  return { start, files: 1 + report.fleet.tenants + report.fleet.workspaces };
}

let start;
let files;
if (kind === 'floor') {
  const { parse } = await import('yaml');
  start = performance.now();
  files = floor(parse);
} else if (kind === 'validate') {
  const { runValidate } = await import('../dist/cli/validate.js');
  ({ start, files } = await validate((io) => runValidate(io, { format: 'text', json: true })));
} else if (kind === 'cli') {
  const { main } = await import('../dist/cli/main.js');
  ({ start, files } = await validate((io) => main(['validate', '--json'], io)));
} else {
  throw new Error(`unknown kind ${kind}`);
}
const end = performance.now();
process.stdout.write(JSON.stringify({ ms: end - start, totalMs: end, maxRssMb: process.resourceUsage().maxRSS / 1024, files }));
