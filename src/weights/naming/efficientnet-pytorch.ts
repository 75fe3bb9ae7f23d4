/**
 * The EfficientNet-PyTorch package's names (`lukemelas/EfficientNet-PyTorch`, the 2019
 * `efficientnet-b0-355c32eb.pth` … files) mapped onto timm's:
 *
 *   _conv_stem / _bn0           -> conv_stem / bn1
 *   _blocks.{n}.<part>          -> blocks.{stage}.{i}.<part>     (n numbers blocks flat across stages)
 *   _conv_head / _bn1           -> conv_head / bn2
 *   _fc                         -> classifier
 *
 * Block parts: `_expand_conv` / `_bn0` (absent when the expansion is 1), `_depthwise_conv` / `_bn1`,
 * `_se_reduce` / `_se_expand`, `_project_conv` / `_bn2`. The flat numbering hides the stages, so
 * they are recovered from the shapes: a new stage starts where the block's output width, kernel
 * size or having an expand conv changes. Consecutive B0 stages always differ in output width
 * (16, 24, 40, 80, 112, 192, 320 times the width multiplier, distinct after rounding for every
 * width of 0.5 and up), and at narrower custom widths, where 16 and 24 can both round to 8, in
 * the expand conv that stage 1 lacks.
 */
import type { SourceTensor } from '../source.js';

const BLOCK = /^_blocks\.(\d+)\.([A-Za-z_0-9]+)\.([A-Za-z_]+)$/;

const WITH_EXPAND: Readonly<Record<string, string>> = {
  _expand_conv: 'conv_pw', _bn0: 'bn1', _depthwise_conv: 'conv_dw', _bn1: 'bn2',
  _se_reduce: 'se.conv_reduce', _se_expand: 'se.conv_expand', _project_conv: 'conv_pwl', _bn2: 'bn3',
};
const WITHOUT_EXPAND: Readonly<Record<string, string>> = {
  _depthwise_conv: 'conv_dw', _bn1: 'bn1', _se_reduce: 'se.conv_reduce', _se_expand: 'se.conv_expand', _project_conv: 'conv_pw', _bn2: 'bn2',
};
const END_MODULES: Readonly<Record<string, string>> = {
  _conv_stem: 'conv_stem', _bn0: 'bn1', _conv_head: 'conv_head', _bn1: 'bn2', _fc: 'classifier',
};

export function isEfficientNetPytorchNaming(names: readonly string[]): boolean {
  return names.includes('_conv_stem.weight') && names.some((name) => BLOCK.test(name));
}

/** Source name -> timm name; blocks whose stage cannot be told (no `_project_conv`) are left out. */
export function efficientNetPytorchToTimm(tensors: ReadonlyMap<string, SourceTensor>): Map<string, string> {
  const blockCount = Math.max(-1, ...[...tensors.keys()].map((name) => Number(BLOCK.exec(name)?.[1] ?? -1))) + 1;
  // Stage and position of each flat block index.
  const placement: ({ stage: number; index: number } | undefined)[] = [];
  let stage = -1;
  let index = 0;
  let previousKey = '';
  for (let n = 0; n < blockCount; n++) {
    const width = tensors.get(`_blocks.${n}._project_conv.weight`)?.shape[0];
    if (width === undefined) continue;
    const kernel = tensors.get(`_blocks.${n}._depthwise_conv.weight`)?.shape[2];
    const key = `${width}/${kernel}/${tensors.has(`_blocks.${n}._expand_conv.weight`)}`;
    if (key !== previousKey) {
      stage += 1;
      index = 0;
      previousKey = key;
    }
    placement[n] = { stage, index };
    index += 1;
  }
  const renames = new Map<string, string>();
  for (const name of tensors.keys()) {
    const block = BLOCK.exec(name);
    if (block) {
      const [, flat, part, parameter] = block;
      const place = placement[Number(flat)];
      const table = tensors.has(`_blocks.${flat}._expand_conv.weight`) ? WITH_EXPAND : WITHOUT_EXPAND;
      const timm = table[part];
      if (place !== undefined && timm !== undefined) renames.set(name, `blocks.${place.stage}.${place.index}.${timm}.${parameter}`);
      continue;
    }
    const dot = name.indexOf('.');
    const module = END_MODULES[name.slice(0, dot)];
    if (module !== undefined && name.indexOf('.', dot + 1) < 0) renames.set(name, `${module}${name.slice(dot)}`);
  }
  return renames;
}
