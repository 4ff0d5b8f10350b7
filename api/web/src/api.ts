// The review API as the UI uses it (docs/review-api.md): the session token lives in sessionStorage and
// travels in the Authorization header; every failure is an ApiFailure with the server's stable code.
export type Badge = 'prohibited' | 'perishable' | 'vessel-cutoff' | 'aeo';
export type MachineDecision = 'clear' | 'review' | 'hold';
export type ReviewerDecision = 'clear' | 'inspect' | 'misdeclared';
export type Box = [number, number, number, number];

export interface User { id: string; username: string; displayName: string; role: string; tier?: 'A' | 'B' | 'C' | null }
export interface Reason {
  code: string;
  detail: string;
  layer?: string;
  decision?: MachineDecision;
  /** `xRange`: a stretch along the image, full height, in rendering pixels (a part of a long container). */
  evidence?: { boxes?: Array<{ label: string; score: number; box: Box }>; model?: string; scores?: Record<string, number>; xRange?: [number, number] };
}
/** What one tile along a long container looked like most (the machine verdict's reference evidence). */
export interface TileLook { x: number; width: number; bestCode: string; similarity: number; declaredSimilarity: number | null }
export interface ReferenceEvidence {
  status?: string;
  declared?: Array<{ hsCode: string; matchedAt: 10 | 6 | 4 | 2 | null; similarity: number | null }>;
  tiles?: TileLook[];
}
export interface Subject { containerNo?: string; waybill?: string }
export interface QueueItem {
  scanId: string;
  modality: string;
  subject: Subject;
  decision: MachineDecision;
  reasons: Reason[];
  badges: Badge[];
  receivedAt: string;
  slaDeadline: string;
  overdue: boolean;
  state: string;
  claimedBy?: string | null;
  leaseExpiresAt?: string | null;
}
export interface Verdict { decision: string; reasons: Reason[]; source: string; at: string; declaredVsSeen?: { references?: ReferenceEvidence } | null; policyVersion?: string; models?: Array<{ name: string; version: string }> ; actions?: Record<string, unknown>; reviewer?: string; comment?: string }
export interface DeclarationLine { hsCode: string; hsDescription?: string; description: string; quantity: number; unit: string; grossKg: number; category?: string }
export interface Declaration {
  declarationId: string;
  lines: DeclarationLine[];
  enterprise?: { id: string; name?: string; creditLevel: string };
  containers?: Array<{ containerNo: string; sealNo?: string; tareKg?: number }>;
  waybills?: string[];
  perishable?: boolean;
  vesselClosingAt?: string;
  port?: string;
}
/** A reviewer's decision on an item (shown to whoever confirms or resolves it). */
export interface ReviewDecisionView {
  id: string;
  reviewer: string;
  tier: string | null;
  decision: ReviewerDecision;
  reason: string;
  comment: string | null;
  boxes: Array<{ label: string; box: Box }>;
  status: 'pending-confirmation' | 'counted' | 'rejected';
  createdAt: string;
}
export interface ReviewDetail {
  scan: { scanId: string; modality: string; subject: Subject; capturedAt: string; weightKg?: number | null; images: Array<{ role: string; width: number; height: number; bitDepth: number }>; rendering: { width: number; height: number; channels: number } | null };
  verdict: Verdict | null;
  declaration?: Declaration | null;
  history: Verdict[];
  item: QueueItem;
  /** Present for whoever must confirm (tier A, supervisor) or resolve the item. */
  decisions?: ReviewDecisionView[];
  /** Nearest verified references of the declared codes (`declared`) and of the best other match (`other`). */
  references: Array<{ url: string; label?: string; hsCode?: string; referenceId?: string; group?: 'declared' | 'other'; similarity?: number }>;
}
export interface TileSet { url: string; width: number; height: number; levels: number; bitDepth: number; channels: number }
export interface ImageUrls { expiresAt: string; rendering: string; high?: string; low?: string; image?: string; tiles: { tileSize: number; levels: number; url: string; role: string; byRole: Record<string, TileSet> } }
export interface Hold { id: string; containerNo?: string; scanId?: string; state: string; reasons?: string[]; requestedBy?: string; createdAt?: string; updatedAt?: string; history?: Array<{ from?: string | null; to: string; at: string; actor?: string; reason?: string | null }> }
export interface DeadLetter { id: string; topic?: string; destination?: string; attempts?: number; lastError?: string; createdAt?: string; payload?: unknown }
export interface Stats { autoClearRate: number; queueDepth: number; overdue: number; decisionsToday: number; reviewerThroughput: Array<{ reviewer: string; decisions: number }>; verdictsByHour: Array<Record<string, number | string>> }

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const TOKEN = 'tidewatch.token';
const USER = 'tidewatch.user';

export const session = {
  get token(): string | null { return sessionStorage.getItem(TOKEN); },
  get user(): User | null {
    const raw = sessionStorage.getItem(USER);
    return raw ? (JSON.parse(raw) as User) : null;
  },
  save(token: string, user: User) { sessionStorage.setItem(TOKEN, token); sessionStorage.setItem(USER, JSON.stringify(user)); },
  clear() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(USER); },
};

/** Called when the server no longer accepts the session (the app shows the login screen). */
let onSignedOut: () => void = () => {};
export function whenSignedOut(fn: () => void): void { onSignedOut = fn; }

export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiFailure(0, 'NETWORK', 'the server cannot be reached; check the connection');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (json ?? {}) as { code?: string; message?: string };
    if (res.status === 401 && !path.endsWith('/auth/login')) {
      session.clear();
      onSignedOut();
    }
    const retry = res.headers.get('retry-after');
    throw new ApiFailure(res.status, e.code ?? `HTTP_${res.status}`, `${e.message ?? res.statusText}${retry ? ` (retry in ${retry} s)` : ''}`);
  }
  return json as T;
}

export const reviewApi = {
  login: (username: string, password: string) => api<{ token: string; expiresAt: string; user: User }>('POST', '/v1/auth/login', { username, password }),
  logout: () => api<void>('POST', '/v1/auth/logout'),
  queue: (limit = 200) => api<{ items: QueueItem[]; now: string }>('GET', `/v1/review/queue?limit=${limit}`),
  mine: () => api<{ items: QueueItem[]; now?: string }>('GET', '/v1/review/mine'),
  detail: (scanId: string) => api<ReviewDetail>('GET', `/v1/review/items/${encodeURIComponent(scanId)}`),
  claim: (scanId: string) => api<{ leaseExpiresAt: string }>('POST', `/v1/review/items/${encodeURIComponent(scanId)}/claim`),
  renew: (scanId: string) => api<{ leaseExpiresAt: string }>('POST', `/v1/review/items/${encodeURIComponent(scanId)}/renew`),
  release: (scanId: string) => api<void>('POST', `/v1/review/items/${encodeURIComponent(scanId)}/release`),
  decide: (scanId: string, body: { decision: ReviewerDecision; reason: string; comment?: string; boxes?: Array<{ label: string; box: Box }> }) =>
    api<{ state: string }>('POST', `/v1/review/items/${encodeURIComponent(scanId)}/decision`, body),
  confirm: (scanId: string, decisionId: string, agree: boolean, comment?: string) =>
    api<{ state: string }>('POST', `/v1/review/items/${encodeURIComponent(scanId)}/confirm`, { agree, decisionId, ...(comment ? { comment } : {}) }),
  imageUrls: (scanId: string) => api<ImageUrls>('GET', `/v1/scans/${encodeURIComponent(scanId)}/image-urls`),
  holds: (state?: string) => api<{ items: Hold[] } | Hold[]>('GET', `/v1/holds${state ? `?state=${encodeURIComponent(state)}` : ''}`),
  holdAction: (id: string, action: 'inspecting' | 'release' | 'seize', reason?: string) =>
    api<unknown>('POST', `/v1/holds/${encodeURIComponent(id)}/${action}`, reason === undefined ? {} : { reason }),
  deadLetters: () => api<{ items: DeadLetter[] } | DeadLetter[]>('GET', '/v1/outbox/dead'),
  retryDead: (id: string) => api<unknown>('POST', `/v1/outbox/${encodeURIComponent(id)}/retry`),
  stats: () => api<Stats>('GET', '/v1/stats'),
};

/** Lists come as `{items}` or a bare array; the UI takes either. */
export const itemsOf = <T>(r: { items: T[] } | T[]): T[] => (Array.isArray(r) ? r : r.items);
