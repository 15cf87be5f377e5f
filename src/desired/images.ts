/** Advice on image references the schema already accepted as OCI references. */

/** The tag of a reference, if any: the part after the last ':' that is not in the registry host. */
function tagOf(reference: string): string | undefined {
  const withoutDigest = reference.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  return lastColon > lastSlash ? withoutDigest.slice(lastColon + 1) : undefined;
}

/** A warning for references that float (no tag or :latest) and so cannot roll out deterministically. */
export function imageWarning(reference: string): string | undefined {
  if (reference.includes('@')) return undefined;
  const tag = tagOf(reference);
  if (tag === undefined) return `The image ${reference} has no tag or digest, so it means :latest, which changes under you; pin a tag or digest.`;
  if (tag === 'latest') return `The image ${reference} uses the :latest tag, which changes under you; pin a version tag or digest.`;
  return undefined;
}
