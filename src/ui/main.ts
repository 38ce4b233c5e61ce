/**
 * Entry of the web UI bundle: defines every element and mounts <ap-app> (see index.html).
 *
 * @example
 * node scripts/build-ui.mjs  # bundles this file into dist/ui/app.js
 */
import './ap-app.ts';
