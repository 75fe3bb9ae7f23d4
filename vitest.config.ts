import { configDefaults, defineConfig } from 'vitest/config';
import { RELAXED_SIMD_FLAG, relaxedSimdProblem } from './src/runtime/simd.js';

/** Kernel suites that run a second time against the relaxed-SIMD build (the kernels that use madd). */
const RELAXED_KERNEL_SUITES = ['test/runtime/gemm.test.ts', 'test/runtime/conv.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/relaxed/**'] },
      },
      {
        // The same kernel sweeps on build/efficientnet-relaxed.wasm, plus the relaxed model's own
        // tests, in workers whose V8 has relaxed SIMD on.
        extends: true,
        test: {
          name: 'relaxed-simd',
          include: [...RELAXED_KERNEL_SUITES, 'test/relaxed/**/*.test.ts'],
          env: { EFFICIENTNET_TEST_CORE: 'relaxed' },
          execArgv: relaxedSimdProblem() === null ? [] : [RELAXED_SIMD_FLAG],
        },
      },
    ],
  },
});
