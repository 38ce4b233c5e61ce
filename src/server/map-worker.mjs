// Worker-thread entry for embedding maps: registers tsx (so the TypeScript worker runs without a build step), then loads it.
import { register } from 'tsx/esm/api';

register();
await import('./map-worker.ts');
