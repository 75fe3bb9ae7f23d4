/**
 * The part of `jsfive` (a pure-JavaScript HDF5 reader, shipped without types) that the Keras
 * reader uses. Values are as jsfive returns them: attributes decoded to strings, numbers or
 * arrays of them; dataset values as a flat array in C order.
 */
declare module 'jsfive' {
  export interface Hdf5Node {
    readonly attrs: Record<string, unknown>;
  }
  export class Group implements Hdf5Node {
    readonly attrs: Record<string, unknown>;
    readonly keys: string[];
    get(path: string): Group | Dataset | null;
  }
  export class Dataset implements Hdf5Node {
    readonly attrs: Record<string, unknown>;
    readonly shape: number[];
    /** numpy's spelling for number types (`<f4`), an array for compound and string types. */
    readonly dtype: unknown;
    readonly value: ArrayLike<number | bigint>;
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}
