/**
 * The worker script browsers start (`browser.ts`), beside the file that starts it: bundlers that
 * do not rewrite `new Worker(new URL(...))` (esbuild) can then bundle it as a second entry point
 * named `worker.js` next to the page's bundle, and the relative URL still finds it. It is also the
 * package export `efficientnet-wasm/worker.js`.
 */
import '../threads/worker.js';
