// Row conversions shared by the repositories: pg answers timestamps as Date, PGlite sometimes as text.

/** A timestamp column as ISO 8601 UTC. */
export function iso(d: Date | string): string;
export function iso(d: Date | string | null): string | null;
export function iso(d: Date | string | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}
