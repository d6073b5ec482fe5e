// Aligned plain-text tables, as kubectl prints them: upper-case headers, columns three spaces apart.
import { stringify } from 'yaml';
import type { KubeObject } from '../../api/model/types.ts';

/** Rows padded to their widest cell; the last column is not padded. */
export function alignTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd()).join('\n') + '\n';
}

/** One object, or a List of them, as JSON or YAML. */
export function renderObjects(objs: KubeObject | KubeObject[], format: 'json' | 'yaml'): string {
  const doc = Array.isArray(objs) ? { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: objs } : objs;
  return format === 'json' ? JSON.stringify(doc, null, 2) + '\n' : stringify(doc);
}
