import type { PoolInfo } from './pools.js';
export async function evidenceReport(_pools: PoolInfo[], _o: { seeds: number[]; budgets: number[]; parallels: number[]; log: (m: string) => void }): Promise<{ markdown: string; data: unknown }> {
  return { markdown: '', data: null };
}
