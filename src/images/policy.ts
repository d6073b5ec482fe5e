// imagePullPolicy with Kubernetes' defaults (pkg/apis/core/v1/defaults.go): `:latest` or no tag → Always, else IfNotPresent.
import { parseImageRef } from './reference.ts';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/**
 * The effective pull policy of a container image.
 * @example pullPolicy('nginx') // 'Always'; pullPolicy('nginx:1.27') // 'IfNotPresent'
 */
export function pullPolicy(image: string, imagePullPolicy?: string): PullPolicy {
  if (imagePullPolicy === 'Always' || imagePullPolicy === 'IfNotPresent' || imagePullPolicy === 'Never') return imagePullPolicy;
  // No tag means latest; a digest without a tag pins the content (tag undefined): IfNotPresent.
  return parseImageRef(image).tag === 'latest' ? 'Always' : 'IfNotPresent';
}
