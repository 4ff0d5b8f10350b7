// What a scan is in the trade's words: its modality, its subject (container or parcel) and its lifecycle.

export const MODALITIES = ['container-xray', 'parcel-ct', 'parcel-xray'] as const;
export type Modality = (typeof MODALITIES)[number];

/** Lifecycle of a scan through the pipeline; each step is stored before the next is queued. */
export const SCAN_STATUSES = ['received', 'preprocessed', 'inferred', 'assessed'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

/** Image roles a gateway may send: one rendering, or a dual-energy pair. */
export const IMAGE_ROLES = ['image', 'high', 'low'] as const;
export type ImageRole = (typeof IMAGE_ROLES)[number];

export type ScanSubject = { containerNo: string } | { waybill: string };

export function isContainerModality(m: Modality): boolean {
  return m === 'container-xray';
}
