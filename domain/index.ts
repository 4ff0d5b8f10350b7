// The public API of domain/: pure rules and types for customs smart review. Import from here.

export * from './categories.js';
export * from './iso6346.js';
export * from './scan.js';
export * from './verdict.js';

export { hsChapter, hsCodes, hsDescription, hsExists, normalizeHsCode, validateHsCode } from './hs/hs.js';
export type { HsCodeCheck, HsCodeErrorCode } from './hs/hs.js';
export {
  GENERIC_CATEGORIES,
  HS_VISUAL_MAP_VERSION,
  VISUAL_CATEGORIES,
  chapterVisualEntry,
  isRecognisable,
  visualCategoryOf,
} from './hs/visual-category.js';
export type { GenericCategory, HsVisual, ReservedChapter, VisualCategory, VisualMapEntry } from './hs/visual-category.js';

export * from './declaration/declaration.js';
export * from './declaration/validate-declaration.js';

export * from './policy/policy.js';
export { defaultPolicy, parsePolicy } from './policy/parse-policy.js';
export type { PolicyCheck, PolicyError } from './policy/parse-policy.js';
export { blindSampleDraw, isBlindSample } from './policy/blind-sample.js';

export * from './assessment/types.js';
export { assess } from './assessment/assess.js';
export { assessShadow, compareAssessments } from './assessment/shadow.js';
export type { ShadowAssessment, ShadowDifferences } from './assessment/shadow.js';
export { toVerdict } from './assessment/to-verdict.js';

export * from './review/queue-priority.js';
export * from './review/lock-instruction.js';
export * from './audit/hash-chain.js';
export * from './auth/login-lockout.js';
