// Bundle-size budget of @sessiond/client: the whole public API bundled, minified and gzipped
// must stay within 6 kB (6,000 bytes). Exits 1 when over.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const LIMIT_BYTES = 6000;
const entry = fileURLToPath(new URL('../packages/client/src/index.ts', import.meta.url));
const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  write: false,
  logLevel: 'error',
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
const verdict = gzipped <= LIMIT_BYTES ? 'ok' : 'OVER BUDGET';
console.log(
  `@sessiond/client bundle: ${code.length} B minified, ${gzipped} B min+gzip ` +
    `(budget ${LIMIT_BYTES} B): ${verdict}`,
);
if (gzipped > LIMIT_BYTES) process.exit(1);
