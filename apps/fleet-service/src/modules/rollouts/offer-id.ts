/**
 * The id a box sees in its offer: the rollout's id, plus `~attempt` from the second attempt on, so a box
 * that remembers having finished (rolloutId, version) takes a retry as new, and its late reports of an
 * earlier attempt are told apart.
 */
export function offerIdOf(rolloutId: string, attempt: number): string {
  return attempt <= 1 ? rolloutId : `${rolloutId}~${attempt}`;
}

export function parseOfferId(offerId: string): { rolloutId: string; attempt: number } {
  const match = /^(.*)~(\d+)$/.exec(offerId);
  if (!match?.[1] || !match[2]) return { rolloutId: offerId, attempt: 1 };
  return { rolloutId: match[1], attempt: Number(match[2]) };
}
