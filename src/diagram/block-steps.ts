/**
 * One block, step by step, as the block diagram draws it: every layer `networkLayers` lists for
 * the block (timm's module names, in execution order, with their output shapes), and between them
 * the steps that hold no weights, placed where the block computes them: the activation after each
 * BN that has one, squeeze-and-excitation's pooling, bottleneck activation, sigmoid gate and
 * channel multiply, and the residual add. Which BN is followed by the block's activation comes
 * from the block's modules (`blockModules`): the expand and spatial BNs are, the projection's is
 * not (the projection is linear), as the forward program's epilogues do.
 */
import { blockModules, networkLayers, type ChwShape, type LayerSpec } from '../arch/layers.js';
import type { BlockSpec, NetworkSpec } from '../arch/network.js';
import type { ActivationName } from '../arch/topology.js';
import { ConfigError } from '../errors.js';
import { networkName } from './block-names.js';

/** Steps with weights carry their layer's op; the rest are functions of their input. */
export type BlockStepKind = LayerSpec['op'] | 'activation' | 'gate' | 'multiply' | 'add';

export interface BlockStep {
  /** What the figure writes: the module name inside the block (`conv_pw`, `se.conv_reduce`) or the function (`swish`, `sigmoid`). */
  readonly label: string;
  /** Full timm module name of a step with weights (`blocks.1.0.conv_pw`); null for functions and pooling. */
  readonly module: string | null;
  readonly kind: BlockStepKind;
  /** What the step does, in a few words drawn beside its label (`1×1 expand`, `3×3 depthwise, stride 2`); empty for an activation, whose name says it. */
  readonly detail: string;
  /** Per-image tensor shape after the step, channels × height × width. */
  readonly output: ChwShape;
  /** On squeeze-and-excitation's gate branch (from the pooling to the sigmoid), not the main path. */
  readonly squeezeExcite: boolean;
}

export interface BlockWalk {
  readonly network: NetworkSpec;
  readonly block: BlockSpec;
  /** Input side of the network the shapes are for. */
  readonly resolution: number;
  /** Per-image shape of the block's input. */
  readonly input: ChwShape;
  readonly steps: readonly BlockStep[];
}

/** What each activation computes, for legends. */
export const ACTIVATION_FORMULA: Readonly<Record<ActivationName, string>> = {
  swish: 'x·sigmoid(x)',
  relu6: 'min(max(x, 0), 6)',
  relu: 'max(x, 0)',
};

/** The block names of a network, one range per stage: `blocks.0.0, blocks.1.0 … blocks.1.1, …`. */
export function blockNameRanges(network: NetworkSpec): string {
  const stages = [...new Set(network.blocks.map((b) => b.stage))];
  return stages.map((stage) => {
    const blocks = network.blocks.filter((b) => b.stage === stage);
    const first = blocks[0].name;
    const last = blocks[blocks.length - 1].name;
    return first === last ? first : `${first} … ${last}`;
  }).join(', ');
}

/** The block of this timm name, or a ConfigError that lists the names the network has. */
export function findBlock(network: NetworkSpec, name: string): BlockSpec {
  const block = network.blocks.find((b) => b.name === name);
  if (block === undefined) {
    throw new ConfigError(`no block "${name}" in ${networkName(network)}; its blocks are ${blockNameRanges(network)} ` +
      '(blocks.S.I: block I of stage S, both counted from 0, as timm names them)');
  }
  return block;
}

function checkResolution(resolution: number): void {
  if (!Number.isInteger(resolution) || resolution < 1) {
    throw new ConfigError(`resolution must be a positive integer, got ${resolution}`);
  }
}

const square = (k: number): string => `${k}×${k}`;
const strided = (text: string, stride: number): string => (stride > 1 ? `${text}, stride ${stride}` : text);

/** The block's steps for a square input of side `resolution` to the whole network. */
export function blockWalk(network: NetworkSpec, name: string, resolution = network.coefficients.resolution): BlockWalk {
  checkResolution(resolution);
  const block = findBlock(network, name);
  const prefix = `${block.name}.`;
  const layers = networkLayers(network, resolution).filter((l) => l.name.startsWith(prefix));
  const modules = blockModules(block);
  const activated = new Set([modules.expand?.bn, modules.spatial.bn].filter((n): n is string => n !== undefined));
  const steps: BlockStep[] = [];
  /** The feature map on the main path, which SE's gate multiplies. */
  let main: ChwShape = layers[0].input;
  const activation = (output: ChwShape, squeezeExcite: boolean): BlockStep => ({
    label: block.activation, module: null, kind: 'activation', detail: '', output, squeezeExcite,
  });
  for (const layer of layers) {
    const label = layer.name.slice(prefix.length);
    const step = (detail: string, squeezeExcite = false): BlockStep => ({
      label, module: layer.name, kind: layer.op, detail, output: layer.output, squeezeExcite,
    });
    switch (layer.op) {
      case 'se_reduce': {
        const [c, h, w] = main;
        steps.push({ label: 'avg pool', module: null, kind: 'pool', detail: `mean over ${h}×${w}`, output: [c, 1, 1], squeezeExcite: true });
        steps.push(step('1×1 squeeze', true), activation(layer.output, true));
        break;
      }
      case 'se_expand':
        steps.push(step('1×1 excite', true));
        steps.push({ label: 'sigmoid', module: null, kind: 'gate', detail: 'gate per channel', output: layer.output, squeezeExcite: true });
        steps.push({ label: 'multiply', module: null, kind: 'multiply', detail: 'by the gates', output: main, squeezeExcite: false });
        break;
      case 'bn':
        steps.push(step('batch norm'));
        main = layer.output;
        if (activated.has(layer.name)) steps.push(activation(main, false));
        break;
      default: {
        const role = layer.name === modules.expand?.conv ? 'expand' : layer.name === modules.project?.conv ? 'project' : null;
        const what = layer.op === 'dwconv' ? `${square(layer.kernel)} depthwise`
          : role !== null ? `${square(layer.kernel)} ${role}` : `${square(layer.kernel)} conv`;
        steps.push(step(strided(what, layer.stride)));
        main = layer.output;
      }
    }
  }
  if (block.residual) {
    steps.push({ label: 'add', module: null, kind: 'add', detail: '+ block input', output: main, squeezeExcite: false });
  }
  return { network, block, resolution, input: layers[0].input, steps };
}
