/** The items whose key comes first, in their order (a redelivery within one batch is kept once). */
export function uniqueBy<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Items grouped by box, in their order. */
export function groupByDevice<T extends { deviceId: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(item.deviceId) ?? [];
    list.push(item);
    groups.set(item.deviceId, list);
  }
  return groups;
}
