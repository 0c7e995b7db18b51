// Runs every *.test.ts under a project folder with Node's test runner (through tsx), one file at a time so
// multi-process and tfjs tests never compete for the two CI cores. Usage: node tools/run-tests.mjs <dir> [filter]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [dir, filter] = process.argv.slice(2);
if (!dir) throw new Error('usage: node tools/run-tests.mjs <dir> [filter]');
const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.ts') && (!filter || p.includes(filter))) files.push(p);
  }
})(dir);
if (files.length === 0) {
  console.log(`no tests under ${dir}`);
  process.exit(0);
}
files.sort();
// A hard ceiling per file: no test may hang CI (individual tests set tighter timeouts of their own).
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 600_000);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', `--test-timeout=${fileTimeoutMs}`, ...files],
  { stdio: 'inherit', timeout: fileTimeoutMs * files.length + 30_000, killSignal: 'SIGKILL' },
);
if (r.error) throw r.error;
process.exit(r.status ?? 1);
