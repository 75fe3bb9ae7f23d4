/**
 * torchvision's EfficientNet names (`torchvision.models.efficientnet_b0` … `_b7`, `efficientnet_v2_s|m|l`)
 * mapped onto timm's:
 *
 *   features.0.0 / features.0.1              stem conv / BN          -> conv_stem / bn1
 *   features.{s}.{i}.block.{k}...            stage s (1-7), block i  -> blocks.{s-1}.{i}...
 *   features.{last}.0 / features.{last}.1    head conv / BN          -> conv_head / bn2
 *   classifier.1                             linear (after dropout)  -> classifier
 *
 * Inside a block, `block.k` are its sub-modules in order; a block with an expand conv has four
 * (expand, depthwise, SE, project), one without has three (depthwise, SE, project). V2's fused
 * blocks have two (full kxk conv, project: timm's `conv_exp`, `conv_pwl`), or one when their
 * expansion is 1 (timm's `conv`). Each conv sub-module is a Conv2d (`.0`) followed by a
 * BatchNorm2d (`.1`); SE is `fc1` / `fc2`.
 */
const BLOCK = /^features\.(\d+)\.(\d+)\.block\.(\d+)\.(.+)$/;
const END_CONV = /^features\.(\d+)\.([01])\.(.+)$/;

/** Sub-module k of a block with (`true`) or without an expand conv, as timm names it. */
const WITH_EXPAND: Readonly<Record<string, string>> = {
  '0.0': 'conv_pw', '0.1': 'bn1', '1.0': 'conv_dw', '1.1': 'bn2', '2.fc1': 'se.conv_reduce', '2.fc2': 'se.conv_expand', '3.0': 'conv_pwl', '3.1': 'bn3',
};
const WITHOUT_EXPAND: Readonly<Record<string, string>> = {
  '0.0': 'conv_dw', '0.1': 'bn1', '1.fc1': 'se.conv_reduce', '1.fc2': 'se.conv_expand', '2.0': 'conv_pw', '2.1': 'bn2',
};
/** EfficientNetV2's FusedMBConv with expansion: a full kxk conv then a 1x1 projection, no SE (timm's EdgeResidual). */
const FUSED: Readonly<Record<string, string>> = { '0.0': 'conv_exp', '0.1': 'bn1', '1.0': 'conv_pwl', '1.1': 'bn2' };
/** EfficientNetV2's FusedMBConv with expansion 1: one kxk conv (timm's ConvBnAct). */
const SINGLE_CONV: Readonly<Record<string, string>> = { '0.0': 'conv', '0.1': 'bn1' };

export function isTorchvisionNaming(names: readonly string[]): boolean {
  return names.includes('features.0.0.weight') && names.some((name) => BLOCK.test(name));
}

/** Splits `a.b.c.weight` into the module (`a.b.c`) and the parameter (`weight`). */
function splitParameter(path: string): [string, string] {
  const dot = path.lastIndexOf('.');
  return [path.slice(0, dot), path.slice(dot + 1)];
}

/** Source name -> timm name for every tensor it can place; the rest are left out (and reported as missing/unexpected later). */
export function torchvisionToTimm(names: readonly string[]): Map<string, string> {
  // A block's layout follows from how many sub-modules it has: 4 (MBConv), 3 (depthwise-separable),
  // 2 (V2's fused MBConv) or 1 (V2's single conv).
  const lastPart = new Map<string, number>();
  let lastStage = 0;
  for (const name of names) {
    const block = BLOCK.exec(name);
    if (block) {
      lastStage = Math.max(lastStage, Number(block[1]));
      const key = `${block[1]}.${block[2]}`;
      lastPart.set(key, Math.max(lastPart.get(key) ?? 0, Number(block[3])));
    }
  }
  const tables = [SINGLE_CONV, FUSED, WITHOUT_EXPAND, WITH_EXPAND];
  const headIndex = lastStage + 1;
  const renames = new Map<string, string>();
  for (const name of names) {
    const block = BLOCK.exec(name);
    if (block) {
      const [, stage, index, part, rest] = block;
      const [module, parameter] = splitParameter(`${part}.${rest}`);
      const table = tables[Math.min(lastPart.get(`${stage}.${index}`)!, tables.length - 1)];
      const timm = table[module];
      if (timm !== undefined) renames.set(name, `blocks.${Number(stage) - 1}.${index}.${timm}.${parameter}`);
      continue;
    }
    const end = END_CONV.exec(name);
    if (end) {
      const [, index, which, parameter] = end;
      if (Number(index) === 0) renames.set(name, `${which === '0' ? 'conv_stem' : 'bn1'}.${parameter}`);
      else if (Number(index) === headIndex) renames.set(name, `${which === '0' ? 'conv_head' : 'bn2'}.${parameter}`);
      continue;
    }
    if (name === 'classifier.1.weight' || name === 'classifier.1.bias') renames.set(name, `classifier.${name.slice('classifier.1.'.length)}`);
  }
  return renames;
}
