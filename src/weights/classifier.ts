/**
 * The number of classes a checkpoint's classifier has, so heads other than ImageNet-1k load too.
 */
import { IMAGENET_CLASSES } from '../arch/stages.js';
import type { WeightSource } from './source.js';

export function classifierWidth(file: WeightSource): number {
  const shape = file.tensors.get('classifier.weight')?.shape;
  return shape && shape.length === 2 && shape[0] > 0 ? shape[0] : IMAGENET_CLASSES;
}
