// Child-process entry of the model host. In the compiled build (dist/server/, where `npm run build` puts a copy
// of this file) it loads the compiled worker next to it; from the sources (src/server/, e.g. under vitest) it
// registers tsx so that the TypeScript worker runs without a build step.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./model-worker.js', import.meta.url))) {
  await import('./model-worker.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./model-worker.ts');
}
