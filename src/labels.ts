/**
 * Class labels: the names a model's predictions carry. A 1000-class head is ImageNet's; any other
 * head (a model fine-tuned to its own classes) is labelled by index unless its user names the
 * classes, and names given for the wrong number of classes are refused before the model is built.
 */
import { ConfigError } from './errors.js';
import { IMAGENET_CLASS_NAMES } from './image/imagenet-classes.js';

/** Label of class `index` when no labels are given: the ImageNet name for 1000-class heads, else the index. */
export function classLabel(index: number, numClasses: number): string {
  return numClasses === IMAGENET_CLASS_NAMES.length ? IMAGENET_CLASS_NAMES[index] : `class ${index}`;
}

/** The labels of a head of `numClasses` classes when none are given. */
export function defaultLabels(numClasses: number): readonly string[] {
  if (numClasses === IMAGENET_CLASS_NAMES.length) return IMAGENET_CLASS_NAMES;
  return Object.freeze(Array.from({ length: numClasses }, (_, i) => classLabel(i, numClasses)));
}

/**
 * The labels a model of `numClasses` classes uses: `given` (checked: an array of strings, one per
 * class, copied so later changes to the caller's array do not change the model), or the defaults.
 */
export function resolveLabels(given: unknown, numClasses: number): readonly string[] {
  if (given === undefined) return defaultLabels(numClasses);
  if (!Array.isArray(given)) throw new ConfigError(`labels must be an array of strings, one per class, got ${typeof given}`);
  const notString = given.findIndex((label) => typeof label !== 'string');
  if (notString !== -1) throw new ConfigError(`labels must all be strings, but label ${notString} is ${typeof given[notString]}`);
  if (given.length !== numClasses) {
    const head = numClasses === 0 ? 'the weights have no classifier (0 classes)' : `the weights' classifier has ${numClasses} classes`;
    throw new ConfigError(`${given.length} labels were given but ${head}: give exactly one label per class`);
  }
  return Object.freeze([...(given as string[])]);
}
