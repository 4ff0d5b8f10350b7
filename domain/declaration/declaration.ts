// What was declared for a scan: the manifest and customs declaration (containers or waybills, lines of
// goods with HS codes, the enterprise and its credit level), as plain normalized types.

export const CREDIT_LEVELS = ['aeo-advanced', 'aeo-general', 'ordinary', 'dishonest'] as const;
export type CreditLevel = (typeof CREDIT_LEVELS)[number];

export interface DeclaredContainer {
  /** ISO 6346, normalized (upper case, no spaces). */
  containerNo: string;
  /** ISO 17712 seal number, upper case. */
  sealNo?: string;
  /** The empty container's own weight from its CSC plate. */
  tareKg?: number;
}

export interface DeclarationLine {
  /** 10 digits; the first 6 exist in HS 2022. */
  hsCode: string;
  description: string;
  quantity: number;
  /** As declared ("pcs", "kg", "set", "件"...). */
  unit: string;
  grossKg: number;
}

export interface Enterprise {
  id: string;
  name?: string;
  creditLevel: CreditLevel;
}

export interface Declaration {
  declarationId: string;
  /** Containers for sea/road cargo; empty for parcels. */
  containers: DeclaredContainer[];
  /** Waybills for parcels; empty for containers. */
  waybills: string[];
  /** No lines on a container declaration means the container is declared empty. */
  lines: DeclarationLine[];
  enterprise: Enterprise;
  perishable: boolean;
  /** ISO 8601 instant the vessel closes for loading. */
  vesselClosingAt?: string;
  port?: string;
}

/** Units that count pieces, so a parcel detector's item count can be compared with the quantity. */
export const COUNTABLE_UNITS: readonly string[] = [
  'pcs', 'pc', 'piece', 'pieces', 'item', 'items', 'unit', 'units', 'ea', 'each', 'set', 'sets', 'pair', 'pairs',
  'pce', 'nos', '个', '件', '套', '台', '部', '本', '双', '只',
];

export function isCountableUnit(unit: string): boolean {
  return COUNTABLE_UNITS.includes(unit.trim().toLowerCase());
}

/** A container declaration without lines: the shipper says the box is empty. */
export function isDeclaredEmpty(declaration: Declaration): boolean {
  return declaration.containers.length > 0 && declaration.lines.length === 0;
}

/** The declaration's entry for a scanned container: by number, or the only one a one-box declaration lists. */
export function declaredContainer(declaration: Declaration, containerNo: string | undefined): Declaration['containers'][number] | undefined {
  return declaration.containers.find((c) => c.containerNo === containerNo) ?? (declaration.containers.length === 1 ? declaration.containers[0] : undefined);
}

export function declaredGrossKg(declaration: Declaration): number {
  return declaration.lines.reduce((sum, line) => sum + line.grossKg, 0);
}
