// Types shared by the review screen's parts.
export type { Box, ReviewerDecision } from '../api.js';
export type { UserBox, ModelBox } from '../viewer/viewer.js';
