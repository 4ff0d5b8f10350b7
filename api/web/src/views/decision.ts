// The decision dialog: decision, reason (required), comment, the boxes drawn; Enter submits. A trainee
// (tier C) sees a second step saying a senior will confirm, and must confirm it before anything is sent.
import type { ReviewerDecision, UserBox } from './review-types.js';
import { h, kbd } from '../dom.js';

const DEFAULT_REASON: Record<ReviewerDecision, string> = {
  clear: 'Image consistent with the declaration',
  inspect: 'Suspect region: physical inspection needed',
  misdeclared: 'Goods seen differ from the declared goods',
};
export const DECISION_LABEL: Record<ReviewerDecision, string> = { clear: 'Clear', inspect: 'Inspect', misdeclared: 'Misdeclared' };

export interface DecisionInput { decision: ReviewerDecision; reason: string; comment?: string }

export function openDecisionDialog(opts: { decision: ReviewerDecision; subject: string; boxes: UserBox[]; trainee: boolean; submit: (d: DecisionInput) => Promise<void> }): void {
  const dialog = h('dialog', { class: 'decision-dialog', 'aria-labelledby': 'decision-title' });
  const radios = (['clear', 'inspect', 'misdeclared'] as const).map((d) =>
    h('label', { class: `choice ${d}` }, h('input', { type: 'radio', name: 'decision', value: d, checked: d === opts.decision, 'aria-keyshortcuts': d[0]!.toUpperCase() }), ` ${DECISION_LABEL[d]} `, kbd(d[0]!.toUpperCase())));
  const reason = h('input', { id: 'decision-reason', name: 'reason', required: true, maxlength: 500, value: DEFAULT_REASON[opts.decision] });
  const comment = h('textarea', { id: 'decision-comment', name: 'comment', rows: 2, maxlength: 2000 });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const unlabelled = opts.boxes.filter((b) => !b.label.trim()).length;
  const submitBtn = h('button', { type: 'submit', class: 'primary', 'aria-keyshortcuts': 'Enter' }, opts.trainee ? 'Continue' : 'Submit', ' ', kbd('Enter'));
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'decision-title' }, `Decision on ${opts.subject}`),
    h('fieldset', { class: 'choices' }, h('legend', {}, 'Decision'), radios),
    h('label', { for: 'decision-reason' }, 'Reason'), reason,
    h('label', { for: 'decision-comment' }, 'Comment (optional)'), comment,
    h('p', { class: 'muted' }, opts.boxes.length ? `${opts.boxes.length} box${opts.boxes.length > 1 ? 'es' : ''} drawn${unlabelled ? ` (${unlabelled} unlabelled: they are sent as "suspect")` : ''}.` : 'No boxes drawn.'),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'button', 'aria-keyshortcuts': 'Escape', onclick: () => dialog.close() }, 'Cancel ', kbd('Esc')), submitBtn));
  const chosen = (): ReviewerDecision => (form.querySelector('input[name=decision]:checked') as HTMLInputElement).value as ReviewerDecision;
  form.addEventListener('change', (e) => {
    const t = e.target as HTMLInputElement;
    if (t.name === 'decision' && Object.values(DEFAULT_REASON).includes(reason.value)) reason.value = DEFAULT_REASON[t.value as ReviewerDecision];
  });
  let step: 'form' | 'confirm' = 'form';
  const send = async () => {
    submitBtn.disabled = true;
    try {
      await opts.submit({ decision: chosen(), reason: reason.value.trim(), ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) });
      dialog.close();
    } catch (err) {
      error.textContent = (err as Error).message;
      submitBtn.disabled = false;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      error.textContent = 'A reason is required.';
      reason.focus();
      return;
    }
    if (opts.trainee && step === 'form') {
      step = 'confirm';
      form.classList.add('confirming');
      const box = h('div', { class: 'confirm-step', role: 'alert' },
        h('p', {}, h('strong', {}, `Confirm: ${DECISION_LABEL[chosen()]}`), ` — "${reason.value.trim()}"`),
        h('p', {}, 'You are a trainee reviewer (tier C): a senior reviewer will confirm this decision before it takes effect.'));
      error.before(box);
      submitBtn.replaceChildren('Confirm decision ', kbd('Enter'));
      submitBtn.focus();
      return;
    }
    void send();
  });
  dialog.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLTextAreaElement || e.target === reason) return;
    const k = e.key.toLowerCase();
    const map: Record<string, ReviewerDecision> = { c: 'clear', i: 'inspect', m: 'misdeclared' };
    if (map[k] && step === 'form') {
      (form.querySelector(`input[value=${map[k]}]`) as HTMLInputElement).click();
      e.preventDefault();
    }
  });
  dialog.addEventListener('close', () => dialog.remove());
  dialog.append(form);
  document.body.append(dialog);
  dialog.showModal();
  submitBtn.focus();
}
