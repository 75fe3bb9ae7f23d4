/**
 * `efficientnet diagram`: the family's compound scaling, or one network stage by stage, as an SVG
 * file computed from the architecture tables.
 */
import { buildNetwork } from '../../arch/network.js';
import { VARIANTS, isVariantName, VARIANT_LIST } from '../../arch/variants.js';
import { networkDiagram } from '../../diagram/network-diagram.js';
import { scalingDiagram } from '../../diagram/scaling-chart.js';
import { integerOption, parseOptions, requireOption, UsageError } from '../args.js';
import { writeOutputFile } from '../files.js';

export const diagramUsage = 'efficientnet diagram (scaling | --variant V [--resolution R]) --out FILE.svg';

/** The one diagram named by a positional argument; everything else is chosen with --variant. */
const SCALING = 'scaling';

export function diagramCommand(argv: string[], out: (line: string) => void): void {
  const { values, positionals } = parseOptions(argv, {
    variant: { type: 'string' },
    resolution: { type: 'string' },
    out: { type: 'string' },
  }, true);
  const outPath = requireOption(values.out, '--out');
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== SCALING)) {
    throw new UsageError(`unknown diagram "${positionals.join(' ')}": expected "${SCALING}" or --variant V`);
  }
  let svg: string;
  if (positionals[0] === SCALING) {
    if (values.variant !== undefined || values.resolution !== undefined) {
      throw new UsageError('the scaling diagram shows every variant at its own resolution: drop --variant and --resolution');
    }
    svg = scalingDiagram();
  } else {
    const variant = requireOption(values.variant, '--variant');
    if (!isVariantName(variant)) throw new UsageError(`unknown variant "${variant}": expected ${VARIANT_LIST}`);
    const resolution = integerOption(values.resolution, '--resolution', VARIANTS[variant].resolution);
    svg = networkDiagram(buildNetwork(variant), resolution);
  }
  writeOutputFile(outPath, new TextEncoder().encode(svg));
  out(`wrote ${outPath}`);
}
