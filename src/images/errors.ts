// The one error of an image pull, classified once so callers (pod status, Events) can tell auth
// refused from not found from unreachable (SmartOS's Docker had to learn this; §8 of the research).

export type ImagePullErrorKind = 'unauthorized' | 'not-found' | 'unreachable' | 'digest-mismatch' | 'invalid' | 'no-platform' | 'not-present';

/** A failed pull; `message` carries the registry's own error text where it gave one. */
export class ImagePullError extends Error {
  constructor(readonly kind: ImagePullErrorKind, message: string) {
    super(message);
    this.name = 'ImagePullError';
  }
}
