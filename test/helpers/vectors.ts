// Hand-made embeddings for the reference-matching tests: answers can be worked out by hand.

/** A unit vector near axis `axis` of 8 dimensions, nudged by `jitter` on the next axis. */
export function vec(axis: number, jitter = 0): number[] {
  const v = new Array<number>(8).fill(0);
  v[axis] = 1;
  v[(axis + 1) % 8] = jitter;
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
