/**
 * `efficientnet diagram`: the family's compound scaling, one network stage by stage, or the
 * insides of blocks step by step, as an SVG file computed from the architecture tables.
 */
import { buildNetwork } from '../../arch/network.js';
import { VARIANTS, isVariantName, VARIANT_LIST, type VariantName } from '../../arch/variants.js';
import { blockDiagram, representativeBlocks } from '../../diagram/block-diagram.js';
import { networkDiagram } from '../../diagram/network-diagram.js';
import { scalingDiagram } from '../../diagram/scaling-chart.js';
import { integerOption, parseOptions, requireOption, UsageError } from '../args.js';
import { writeOutputFile } from '../files.js';

export const diagramUsage =
  'efficientnet diagram (scaling | block [--variant V] [--block blocks.S.I] | --variant V [--block blocks.S.I]) [--resolution R] --out FILE.svg';

/** The diagrams named by a positional argument; with none, --variant chooses a network. */
const SCALING = 'scaling';
const BLOCK = 'block';
/** The network whose blocks `diagram block` draws when no --variant is given: the baseline, B0. */
const DEFAULT_BLOCK_VARIANT: VariantName = 'b0';

function variantOption(value: string): VariantName {
  if (!isVariantName(value)) throw new UsageError(`unknown variant "${value}": expected ${VARIANT_LIST}`);
  return value;
}

export function diagramCommand(argv: string[], out: (line: string) => void): void {
  const { values, positionals } = parseOptions(argv, {
    variant: { type: 'string' },
    block: { type: 'string' },
    resolution: { type: 'string' },
    out: { type: 'string' },
  }, true);
  const outPath = requireOption(values.out, '--out');
  const kind = positionals[0];
  if (positionals.length > 1 || (kind !== undefined && kind !== SCALING && kind !== BLOCK)) {
    throw new UsageError(`unknown diagram "${positionals.join(' ')}": expected "${SCALING}", "${BLOCK}" or --variant V`);
  }
  let svg: string;
  if (kind === SCALING) {
    if (values.variant !== undefined || values.resolution !== undefined || values.block !== undefined) {
      throw new UsageError('the scaling diagram shows every variant at its own resolution: drop --variant, --block and --resolution');
    }
    svg = scalingDiagram();
  } else {
    const variant = kind === BLOCK && values.variant === undefined ? DEFAULT_BLOCK_VARIANT : variantOption(requireOption(values.variant, '--variant'));
    const resolution = integerOption(values.resolution, '--resolution', VARIANTS[variant].resolution);
    const network = buildNetwork(variant);
    if (values.block !== undefined) {
      // An unknown block name is a ConfigError from blockWalk that lists the network's blocks.
      svg = blockDiagram(network, [values.block], resolution);
    } else if (kind === BLOCK) {
      svg = blockDiagram(network, representativeBlocks(network).map((b) => b.name), resolution);
    } else {
      svg = networkDiagram(network, resolution);
    }
  }
  writeOutputFile(outPath, new TextEncoder().encode(svg));
  out(`wrote ${outPath}`);
}
