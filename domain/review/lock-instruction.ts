// The lock instruction (锁箱) as a state machine: requested → sent → acknowledged → inspecting → released |
// seized. Illegal transitions are refused with a code; only a supervisor releases or seizes, with a reason.

export const LOCK_STATES = ['requested', 'sent', 'acknowledged', 'inspecting', 'released', 'seized'] as const;
export type LockState = (typeof LOCK_STATES)[number];

export type LockEvent =
  | { type: 'send' }
  | { type: 'acknowledge' }
  | { type: 'start-inspection' }
  | { type: 'release'; role: string; reason: string }
  | { type: 'seize'; role: string; reason: string };

export type LockTransitionErrorCode = 'LOCK_TRANSITION_ILLEGAL' | 'LOCK_CLOSED' | 'LOCK_ROLE_FORBIDDEN' | 'LOCK_REASON_REQUIRED';

export type LockTransition =
  | { ok: true; from: LockState; to: LockState }
  | { ok: false; code: LockTransitionErrorCode; message: string };

const NEXT: Record<LockEvent['type'], { from: LockState; to: LockState }> = {
  send: { from: 'requested', to: 'sent' },
  acknowledge: { from: 'sent', to: 'acknowledged' },
  'start-inspection': { from: 'acknowledged', to: 'inspecting' },
  release: { from: 'inspecting', to: 'released' },
  seize: { from: 'inspecting', to: 'seized' },
};

export function isLockClosed(state: LockState): boolean {
  return state === 'released' || state === 'seized';
}

export function transitionLock(state: LockState, event: LockEvent): LockTransition {
  if (isLockClosed(state)) {
    return { ok: false, code: 'LOCK_CLOSED', message: `the lock instruction is already ${state}; nothing more can happen to it` };
  }
  const step = NEXT[event.type];
  if (step.from !== state) {
    return { ok: false, code: 'LOCK_TRANSITION_ILLEGAL', message: `cannot ${event.type} a lock instruction that is ${state} (only from ${step.from})` };
  }
  if (event.type === 'release' || event.type === 'seize') {
    if (event.role !== 'supervisor') {
      return { ok: false, code: 'LOCK_ROLE_FORBIDDEN', message: `only a supervisor may ${event.type} a locked container` };
    }
    if (event.reason.trim() === '') {
      return { ok: false, code: 'LOCK_REASON_REQUIRED', message: `a reason is required to ${event.type} a locked container` };
    }
  }
  return { ok: true, from: state, to: step.to };
}

/** The gate's answer: a container may leave only when every lock instruction on it has been released. */
export function mayLeaveGate(lockStates: readonly LockState[]): boolean {
  return lockStates.every((s) => s === 'released');
}
