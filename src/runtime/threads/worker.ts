/**
 * The entry point of every pool thread (`pool.ts` starts it as `worker.js`). A worker holds its
 * own instance of the threaded core on the shared memory, the prepared programs bound to that
 * instance, and takes part in runs: as a helper, or (in browsers) as the coordinator (`protocol.ts`).
 */
import type { ExecutorKernels } from '../wasm-executor.js';
import { hostPort } from './endpoint.js';
import { bindPhases } from './phase-plan.js';
import { errorMessage, type HostMessage } from './protocol.js';
import { coordinateRun, WorkQueue, type Units } from './work-queue.js';
import type { HostPort } from '../platform/types.js';

let kernels: ExecutorKernels | null = null;
let queue: WorkQueue | null = null;
/** Per program id, per phase, the phase's units bound to this instance. */
const programs = new Map<number, readonly Units[]>();

function unitsOf(program: number, step: number): Units {
  const units = programs.get(program)?.[step];
  if (units === undefined) throw new Error(`worker has no step ${step} of program ${program}`);
  return units;
}

async function handle(port: HostPort, message: HostMessage): Promise<void> {
  switch (message.type) {
    case 'init': {
      // Instantiating writes the module's data segments (constants, the same bytes every time)
      // into the shared memory, so the host does this for every worker before any work starts.
      const instance = await WebAssembly.instantiate(message.module, { env: { memory: message.memory } });
      kernels = instance.exports as unknown as ExecutorKernels;
      queue = new WorkQueue(message.control);
      port.reply({ type: 'ready' });
      return;
    }
    case 'program':
      programs.set(message.id, bindPhases(kernels!, message.plan));
      return;
    case 'join': {
      queue!.help(message.run, unitsOf);
      const error = queue!.takeError();
      if (error !== null) port.reply({ type: 'failed', message: errorMessage(error) });
      return;
    }
    case 'run':
      port.reply({ type: 'done', run: message.run, failure: coordinateRun(queue!, message.run, message.program, message.from, message.to, unitsOf) });
      return;
  }
}

// No top-level await: bundlers may emit this worker as a classic script (Vite's default worker
// format is an IIFE), which cannot have one. The host sends nothing before it hears `alive`.
void hostPort().then((port) => {
  // Messages are handled one after another, even while `init` awaits the instantiation.
  let handled: Promise<void> = Promise.resolve();
  port.listen((message) => {
    handled = handled.then(() => handle(port, message)).catch((error: unknown) => port.reply({ type: 'failed', message: errorMessage(error) }));
  });
  port.reply({ type: 'alive' });
});
