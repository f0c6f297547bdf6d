/**
 * The Pareto front of a set of trade-offs: the points no other point beats on one objective without losing on
 * the other. Here "higher value, lower cost" (validation accuracy against parameters), so a user sees which
 * smaller networks give up how much accuracy. Pure; ties on both objectives keep the first point.
 */
export interface TradeOff {
  value: number;
  cost: number;
}

/** Indexes of the non-dominated points, by increasing cost (and value). */
export function paretoFront(points: readonly TradeOff[]): number[] {
  const order = points
    .map((_, i) => i)
    .filter((i) => Number.isFinite(points[i].value) && Number.isFinite(points[i].cost))
    // cheapest first; among equal costs the best value first, then the earlier point
    .sort((a, b) => points[a].cost - points[b].cost || points[b].value - points[a].value || a - b);
  const front: number[] = [];
  let best = -Infinity;
  for (const i of order) {
    // a point is on the front when it beats every cheaper-or-equal point's value
    if (points[i].value > best) {
      front.push(i);
      best = points[i].value;
    }
  }
  return front;
}
