/**
 * The number of classes a checkpoint's classifier has, so heads other than ImageNet-1k load too.
 */
import { IMAGENET_CLASSES } from '../arch/stages.js';
import type { WeightSource } from './source.js';

/**
 * The classifier's rows; 0 for a feature extractor (a network head without a classifier, such as
 * timm's num_classes=0). A file with neither is taken as ImageNet's, so the tensor check names
 * what is missing.
 */
export function classifierWidth(file: WeightSource): number {
  const shape = file.tensors.get('classifier.weight')?.shape;
  if (shape && shape.length === 2 && shape[0] > 0) return shape[0];
  const headless = shape === undefined && !file.tensors.has('classifier.bias') && file.tensors.has('conv_head.weight');
  return headless ? 0 : IMAGENET_CLASSES;
}
