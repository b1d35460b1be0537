import { routes } from '@pilotage/api';
import { useQueries } from '@tanstack/react-query';
import { useMemo } from 'react';
import { call } from '../api/client';
import type { Catalog, ComponentSchemas } from './data-map';

const EXACT = /^\d+\.\d+\.\d+([-+].*)?$/;

/**
 * The schemas of the components a workflow names (`name@1.2.0` exactly; a range or a bare name
 * as its newest version), as a catalog for the data map and the forms. Refs it cannot read are
 * simply missing (the server's check reports them).
 */
export function useCatalog(refs: readonly string[]): Catalog {
  const unique = useMemo(() => [...new Set(refs)].sort(), [refs]);
  const results = useQueries({
    queries: unique.map((ref) => ({
      queryKey: ['component-spec', ref],
      staleTime: 60_000,
      retry: false,
      queryFn: async (): Promise<ComponentSchemas> => {
        const at = ref.lastIndexOf('@');
        const name = at > 0 ? ref.slice(0, at) : ref;
        let version = at > 0 ? ref.slice(at + 1) : '';
        if (!EXACT.test(version)) {
          const versions = await call(routes.componentVersions, { params: { name } });
          version = versions.versions.find((v) => !v.deprecated)?.version ?? versions.versions[0]?.version ?? '';
        }
        const detail = await call(routes.getComponent, { params: { name, version } });
        const spec = detail.spec as { inputs?: unknown; outputs?: unknown };
        return { inputs: spec.inputs, outputs: spec.outputs };
      },
    })),
  });
  const datas = results.map((r) => r.data);
  return useMemo(() => {
    const map = new Map<string, ComponentSchemas>();
    unique.forEach((ref, i) => {
      const data = datas[i];
      if (data) map.set(ref, data);
    });
    return map;
  }, [unique, ...datas]);
}
