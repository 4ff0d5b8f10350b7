// The visual vocabulary shared by models and rules: what a scanner can show. Model labels use exactly
// these strings, and the HS → category map (domain/hs) points declared goods at them.

/** Container cargo categories the classifier recognises (multi-label: a mixed load has several). */
export const CARGO_CATEGORIES = [
  'empty',
  'bulk-grain', // ch. 10, 12: grain, beans, seeds
  'sugar', // ch. 17
  'frozen-cartons', // ch. 02, 03: meat or fish in cartons
  'fruit-veg', // ch. 07, 08
  'liquids', // ch. 22, 27, 29: drums, IBCs, bottles
  'tyres', // ch. 40
  'paper-rolls', // ch. 48
  'textiles-cartons', // ch. 61–63
  'wood-furniture', // ch. 44, 94
  'stone-ceramics-glass', // ch. 68–70
  'iron-steel', // ch. 72, 73
  'machinery-electronics', // ch. 84, 85
  'vehicles', // ch. 87
] as const;
export type CargoCategory = (typeof CARGO_CATEGORIES)[number];

/** Concealed or prohibited items the container threat detector looks for. */
export const CONTAINER_THREATS = [
  'firearm',
  'knife',
  'ammunition',
  'cigarettes',
  'drugs',
  'currency',
  'ivory',
  'hidden-compartment',
] as const;
export type ContainerThreat = (typeof CONTAINER_THREATS)[number];

/** Parcel items the parcel detector finds and counts; some are prohibited or restricted. */
export const PARCEL_ITEMS = [
  'clothes',
  'book',
  'shoes',
  'cosmetics-bottle',
  'phone',
  'laptop',
  'toy',
  'knife',
  'gun',
  'battery',
  'lighter',
  'aerosol',
  'liquid',
  'scissors',
  'ammunition',
] as const;
export type ParcelItem = (typeof PARCEL_ITEMS)[number];

/** Parcel items that are prohibited outright (hold) vs restricted (review). */
export const PARCEL_PROHIBITED: readonly ParcelItem[] = ['knife', 'gun', 'ammunition'];
export const PARCEL_RESTRICTED: readonly ParcelItem[] = ['battery', 'lighter', 'aerosol', 'liquid', 'scissors'];
