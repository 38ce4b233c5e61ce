// Worker-thread entry of the compute pools. In the compiled build (dist/server/, where `npm run build` puts a
// copy of this file) it loads the compiled worker next to it; from the sources (src/server/, e.g. under vitest)
// it registers tsx so that the TypeScript worker runs without a build step.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./compute-worker.js', import.meta.url))) {
  await import('./compute-worker.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./compute-worker.ts');
}
