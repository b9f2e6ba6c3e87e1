// The advocate's page: find a survivor's file by case reference, see and
// change her consents and "do not share", record a consent after a
// plain-language preview, print the signed receipt, and show who has seen
// her information. The subject id lives only in this module's memory:
// never in the URL, the history or browser storage.
import * as api from './api.js';
import {el, byId, replace, clear, say, show, setText, formatTime, onSubmit} from './dom.js';
import {startPage} from './header.js';
import {PURPOSE_WORDS, CATEGORY_WORDS, SECTOR_WORDS, STATUS_WORDS, words,
        categoryList, purposeList, granteeWords, nanosToMillis, reportSentence} from './words.js';

const CONSENT_PURPOSES = ['SERVICE_REFERRAL', 'CASE_COORDINATION', 'SAFETY_PLANNING',
  'LEGAL_REPRESENTATION', 'INVESTIGATION', 'PROSECUTION_PURPOSE'];
const DAY = 86400;

// The file being worked on: {subjectId, caseReference} or null.
let current = null;
// The consent terms last previewed (JSON), so that only what was shown
// in plain words can be saved.
let previewed = null;

function base64ToHex(b64) {
  try {
    return Array.from(atob(b64 || ''), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch (e) {
    return '';
  }
}

function checkboxes(fieldset, name, table, keys) {
  for (const key of keys) {
    const id = name + '-' + key.toLowerCase();
    fieldset.appendChild(el('label', {for: id},
        el('input', {type: 'checkbox', id, name, value: key}), ' ' + words(table, key)));
  }
}

// ---- 1. Finding the file ----------------------------------------------

async function find(form) {
  const reference = String(form.get('caseReference') || '').trim();
  const status = byId('find-status');
  current = null;
  previewed = null;
  show(byId('subject-area'), false);
  show(byId('receipt-card'), false);
  say(status, 'info', 'Looking up the case reference\u2026');
  try {
    const answer = await api.call('RecordService', 'FindSubject', {caseReference: reference});
    current = {subjectId: answer.subjectId, caseReference: reference};
  } catch (error) {
    if (error.code === 'NOT_FOUND') {
      say(status, 'error', 'No file has the case reference \u201c' + reference + '\u201d at this agency.');
      return;
    }
    throw error;
  }
  byId('find-form').reset();
  say(status, 'ok', 'Found the file for case reference \u201c' + reference + '\u201d.');
  clear(byId('report'));
  show(byId('report-status'), false);
  show(byId('preview'), false);
  show(byId('save-consent-button'), false);
  show(byId('subject-area'));
  await loadConsents();
}

// ---- 2. Consents and refusals -----------------------------------------

function consentRow(c) {
  const actions = el('td', {class: 'no-print'});
  const receipt = el('button', {type: 'button', class: 'secondary', 'data-test': 'receipt-' + c.consentId}, 'Receipt');
  receipt.addEventListener('click', () => showReceiptOf(c.consentId));
  actions.appendChild(receipt);
  if (c.status === 'ACTIVE') {
    const pause = el('button', {type: 'button', class: 'secondary', 'data-test': 'pause-' + c.consentId}, 'Pause');
    pause.addEventListener('click', () => changeConsent('PauseConsent', c));
    const revoke = el('button', {type: 'button', class: 'danger', 'data-test': 'revoke-' + c.consentId}, 'Withdraw');
    revoke.addEventListener('click', () => changeConsent('RevokeConsent', c));
    actions.append(pause, revoke);
  } else if (c.status === 'PAUSED') {
    const resume = el('button', {type: 'button', 'data-test': 'resume-' + c.consentId}, 'Resume');
    resume.addEventListener('click', () => changeConsent('ResumeConsent', c));
    const revoke = el('button', {type: 'button', class: 'danger', 'data-test': 'revoke-' + c.consentId}, 'Withdraw');
    revoke.addEventListener('click', () => changeConsent('RevokeConsent', c));
    actions.append(resume, revoke);
  }
  const statusCell = el('td', {'data-test': 'status-' + c.consentId}, words(STATUS_WORDS, c.status));
  if (c.statusReason) {
    statusCell.appendChild(el('div', {class: 'note', 'data-test': 'reason-' + c.consentId},
        'Reason: ' + c.statusReason));
  }
  return el('tr', {'data-id': c.consentId},
      el('td', {}, granteeWords(c.grantee)),
      el('td', {}, purposeList(c.purposes)),
      el('td', {}, categoryList(c.categories)),
      el('td', {}, formatTime(c.valid && c.valid.untilUnix)),
      statusCell, actions);
}

function refusalRow(r) {
  const actions = el('td', {class: 'no-print'});
  if (r.active) {
    const lift = el('button', {type: 'button', 'data-test': 'lift-' + r.refusalId}, 'Lift');
    lift.addEventListener('click', () => liftRefusal(r));
    actions.appendChild(lift);
  }
  return el('tr', {'data-id': r.refusalId},
      el('td', {}, r.agencyId ? 'Do not share with agency ' + r.agencyId : 'Do not share with any agency'),
      el('td', {}, 'recorded ' + formatTime(r.recordedUnix) + (r.recordedBy ? ' by ' + r.recordedBy : '')),
      el('td', {}, r.active ? 'in force' : 'lifted ' + formatTime(r.liftedUnix)),
      actions);
}

async function loadConsents() {
  const status = byId('consent-status');
  try {
    const answer = await api.call('ConsentService', 'ListConsents', {subjectId: current.subjectId});
    const consents = answer.consents || [];
    const refusals = answer.refusals || [];
    replace(byId('consent-list'), consents.length === 0 ?
        el('p', {}, 'No consent on file: nothing is shared on the strength of consent.') :
        el('table', {id: 'consent-table'},
            el('thead', {}, el('tr', {},
                el('th', {scope: 'col'}, 'Who may receive'), el('th', {scope: 'col'}, 'For what'),
                el('th', {scope: 'col'}, 'What'), el('th', {scope: 'col'}, 'Valid until'),
                el('th', {scope: 'col'}, 'Status'), el('th', {scope: 'col', class: 'no-print'}, ''))),
            el('tbody', {}, consents.map(consentRow))));
    replace(byId('refusal-list'), refusals.length === 0 ?
        el('p', {}, 'No \u201cdo not share\u201d on file.') :
        el('table', {id: 'refusal-table'}, el('tbody', {}, refusals.map(refusalRow))));
  } catch (error) {
    say(status, 'error', 'Could not load the consents: ' + api.plainMessage(error));
  }
}

// Pause, resume or withdraw, after a confirmation with a reason. Says
// "done" only once the node has answered.
function changeConsent(method, consent) {
  const verbs = {
    PauseConsent: ['Pause this consent?', 'Pause', 'paused'],
    ResumeConsent: ['Resume this consent?', 'Resume', 'resumed'],
    RevokeConsent: ['Withdraw this consent for good?', 'Withdraw', 'withdrawn'],
  }[method];
  askReason(verbs[0],
      'Sharing with ' + granteeWords(consent.grantee) + ' for ' + purposeList(consent.purposes) +
      (method === 'RevokeConsent' ? ' stops before this page says done, and cannot be undone.' :
       method === 'PauseConsent' ? ' stops until the consent is resumed.' : ' can start again.'),
      verbs[1], method !== 'ResumeConsent', async (reason) => {
        const status = byId('consent-status');
        say(status, 'info', 'Asking the node\u2026');
        const answer = await api.call('ConsentService', method, {consentId: consent.consentId, reason});
        say(status, 'ok', 'Done: the consent is ' + verbs[2] + '.');
        await loadConsents();
        showReceipt(answer.receipt);
      });
}

function liftRefusal(refusal) {
  askReason('Lift this \u201cdo not share\u201d?',
      'Consents on file can be used again ' +
      (refusal.agencyId ? 'for agency ' + refusal.agencyId : 'for every agency') + '.',
      'Lift', false, async () => {
        const status = byId('consent-status');
        say(status, 'info', 'Asking the node\u2026');
        await api.call('ConsentService', 'LiftRefusal', {refusalId: refusal.refusalId});
        say(status, 'ok', 'Done: the \u201cdo not share\u201d is lifted.');
        await loadConsents();
      });
}

// A modal confirmation; `action(reason)` runs on confirm, its errors are
// shown in the dialog, and the dialog closes only when it succeeded.
function askReason(title, question, confirmWord, needReason, action) {
  const dialog = byId('change-dialog');
  const form = byId('change-form');
  const reason = byId('change-reason');
  setText(byId('change-title'), title);
  setText(byId('change-question'), question);
  setText(byId('change-confirm'), confirmWord);
  reason.value = '';
  reason.required = needReason;
  reason.parentElement.querySelector('label[for=change-reason]').hidden = !needReason;
  reason.hidden = !needReason;
  let error = form.querySelector('.status');
  if (!error) {
    error = el('div', {class: 'status', id: 'change-status', hidden: true});
    form.appendChild(error);
  }
  show(error, false);
  const onConfirm = async (event) => {
    event.preventDefault();
    if (needReason && !reason.value.trim()) {
      say(error, 'error', 'Please give a reason.');
      return;
    }
    byId('change-confirm').disabled = true;
    try {
      await action(reason.value.trim());
      cleanup();
      dialog.close();
    } catch (e) {
      say(error, 'error', 'Not done. ' + api.plainMessage(e));
    } finally {
      byId('change-confirm').disabled = false;
    }
  };
  const onCancel = () => {
    cleanup();
    dialog.close();
  };
  function cleanup() {
    form.removeEventListener('submit', onConfirm);
    byId('change-cancel').removeEventListener('click', onCancel);
  }
  form.addEventListener('submit', onConfirm);
  byId('change-cancel').addEventListener('click', onCancel);
  dialog.showModal();
}

// ---- 3. Recording a consent, with a preview ---------------------------

function termsFromForm() {
  const form = new FormData(byId('consent-form'));
  const kind = form.get('granteeKind');
  const purposes = form.getAll('purpose');
  const categories = form.getAll('category');
  const until = String(form.get('validUntil') || '');
  const days = Number(form.get('dataLifeDays'));
  const problems = [];
  const grantee = {};
  let previewAgency = '';
  if (kind === 'sector') {
    grantee.sector = String(form.get('granteeSector'));
    previewAgency = String(form.get('previewAgency') || '').trim();
  } else {
    grantee.agencyId = String(form.get('granteeAgency') || '').trim();
    previewAgency = grantee.agencyId;
    if (!grantee.agencyId) problems.push('name the agency that may receive the information');
  }
  if (purposes.length === 0) problems.push('choose at least one purpose');
  if (categories.length === 0) problems.push('choose at least one kind of information');
  const untilMillis = Date.parse(until + 'T23:59:59');
  if (!until || !(untilMillis > Date.now())) problems.push('choose a date in the future for "valid until"');
  if (!(days >= 1 && days <= 3650)) problems.push('give the days the agency may keep it (1 to 3650)');
  if (problems.length) throw new Error('Please ' + problems.join('; ') + '.');
  const now = Math.floor(Date.now() / 1000);
  return {
    previewAgency,
    consent: {
      subjectId: current.subjectId,
      grantee,
      purposes,
      categories,
      valid: {fromUnix: String(now - 60), untilUnix: String(Math.floor(untilMillis / 1000))},
      dataLifeSeconds: String(Math.round(days) * DAY),
    },
  };
}

// What one category would become once the consent is saved.
function outcome(decision) {
  switch (decision.reason) {
    case 'ALLOWED_BY_RULE':
      return ['yes', 'already shared without consent: the sharing policy allows it'];
    case 'ALLOWED_BY_CONSENT': case 'NO_CONSENT': case 'CONSENT_IS_EXPIRED':
    case 'CONSENT_IS_NOT_YET_VALID': case 'CONSENT_IS_PAUSED': case 'CONSENT_IS_REVOKED':
    case 'CONSENT_USE_LIMIT_REACHED':
      return ['yes', 'could be shared once this consent is saved'];
    case 'REFUSED_BY_SURVIVOR':
      return ['no', 'would NOT be shared: a \u201cdo not share\u201d is in force'];
    case 'JUSTIFICATION_MISSING':
      return ['no', 'would NOT be shared, except in an emergency with a written reason'];
    default:
      return ['no', 'would NOT be shared: the sharing policy does not allow it for this purpose, consent or not'];
  }
}

async function preview() {
  const status = byId('preview-status');
  const area = byId('preview');
  previewed = null;
  show(byId('save-consent-button'), false);
  show(area, false);
  const terms = termsFromForm();
  if (!terms.previewAgency) {
    throw new Error('Name one agency of that kind to preview what it could receive.');
  }
  say(status, 'info', 'Asking the node what would be shared\u2026');
  const blocks = [];
  for (const purpose of terms.consent.purposes) {
    const answer = await api.call('AdminService', 'ExplainDecision', {
      subjectId: current.subjectId, requesterAgencyId: terms.previewAgency,
      purpose, categories: terms.consent.categories});
    const decisions = (answer.decision && answer.decision.categories) || [];
    const items = decisions.map((d) => {
      const [yes, text] = outcome(d);
      return el('li', {class: yes === 'yes' ? 'health-ok' : 'health-bad', 'data-test': 'preview-item'},
          words(CATEGORY_WORDS, d.category) + ': ' + text + '.');
    });
    const could = decisions.filter((d) => outcome(d)[0] === 'yes').map((d) => d.category);
    blocks.push(el('div', {},
        el('p', {'data-test': 'preview-summary'},
            could.length ?
              'For ' + words(PURPOSE_WORDS, purpose) + ', ' + terms.previewAgency + ' could then receive her ' +
                categoryList(could) + ' information, if it asks.' :
              'For ' + words(PURPOSE_WORDS, purpose) + ', ' + terms.previewAgency + ' could receive nothing, even with this consent.'),
        el('ul', {}, items)));
  }
  replace(area,
      el('h3', {}, 'Before you save: what this consent would allow'),
      terms.consent.grantee.sector ?
        el('p', {class: 'note'}, 'This consent names every agency of the kind \u201c' +
            words(SECTOR_WORDS, terms.consent.grantee.sector) + '\u201d; shown here for ' + terms.previewAgency + '.') : null,
      blocks,
      el('p', {class: 'note'}, 'Each agency may keep what it receives for ' +
          Math.round(Number(terms.consent.dataLifeSeconds) / DAY) + ' days; the consent can be used until ' +
          formatTime(terms.consent.valid.untilUnix) + ', and can be paused or withdrawn at any time.'));
  show(area);
  previewed = JSON.stringify(Object.assign({}, terms.consent, {valid: null}));
  show(byId('save-consent-button'));
  say(status, 'ok', 'Read this with the survivor, then save if it is what she agreed to.');
}

async function save() {
  const status = byId('save-status');
  const button = byId('save-consent-button');
  button.disabled = true;
  try {
    const terms = termsFromForm();
    if (previewed !== JSON.stringify(Object.assign({}, terms.consent, {valid: null}))) {
      show(button, false);
      say(status, 'error', 'The form changed since the preview: preview it again before saving.');
      return;
    }
    say(status, 'info', 'Saving\u2026');
    const answer = await api.call('ConsentService', 'RecordConsent', {consent: terms.consent});
    say(status, 'ok', 'Saved. The signed receipt is below; print it for the survivor.');
    previewed = null;
    show(button, false);
    show(byId('preview'), false);
    byId('consent-form').reset();
    await loadConsents();
    showReceipt(answer.receipt);
  } catch (error) {
    say(status, 'error', 'Not saved. ' + api.plainMessage(error));
  } finally {
    button.disabled = false;
  }
}

// ---- Receipt -----------------------------------------------------------

async function showReceiptOf(consentId) {
  const status = byId('consent-status');
  try {
    const answer = await api.call('ConsentService', 'GetConsent', {consentId});
    showReceipt(answer.receipt);
  } catch (error) {
    say(status, 'error', 'Could not fetch the receipt: ' + api.plainMessage(error));
  }
}

function showReceipt(receipt) {
  if (!receipt || !receipt.consent) return;
  const c = receipt.consent;
  const rows = [
    ['Agency that holds your information', receipt.issuer],
    ['Consent reference', c.consentId + ' (version ' + c.version + ')'],
    ['Case reference', current ? current.caseReference : ''],
    ['Who may receive it', granteeWords(c.grantee)],
    ['What may be shared', categoryList(c.categories)],
    ['What for', purposeList(c.purposes)],
    ['From', formatTime(c.valid && c.valid.fromUnix)],
    ['Until', formatTime(c.valid && c.valid.untilUnix)],
    ['How long they may keep it', Math.round(Number(c.dataLifeSeconds || 0) / DAY) + ' days'],
    ['Limit on use', c.useLimit && Number(c.useLimit.maxUses) ?
      c.useLimit.maxUses + ' times every ' + Math.round(Number(c.useLimit.periodSeconds) / DAY) + ' days' : 'none'],
    ['Status now', words(STATUS_WORDS, c.status) + (c.statusReason ? ' (reason: ' + c.statusReason + ')' : '')],
    ['Times used so far', String(c.useCount || 0)],
    ['Recorded by', (c.recordedBy || '') + ', ' + formatTime(c.recordedUnix)],
    ['Signed by', receipt.issuer + ', key ' + receipt.keyId],
    ['Signature', base64ToHex(receipt.signature)],
  ];
  replace(byId('receipt'),
      el('h2', {}, 'Consent receipt'),
      el('p', {}, 'This is a record of what you agreed to share. You can pause or withdraw your ' +
          'consent at any time by asking your advocate; sharing stops before they tell you it is done.'),
      el('table', {id: 'receipt-table'}, el('tbody', {}, rows.map(([k, v]) =>
          el('tr', {}, el('th', {scope: 'row'}, k), el('td', {class: k === 'Signature' ? 'mono' : ''}, v))))),
      el('p', {class: 'note'}, 'The signature lets anyone check with Haven\u2019s tools that this receipt ' +
          'was issued by ' + receipt.issuer + ' and not changed since.'));
  show(byId('receipt-card'));
  byId('receipt-card').scrollIntoView();
}

// ---- 4. Do not share --------------------------------------------------

async function recordRefusal(form) {
  const status = byId('refusal-status');
  const agencyId = String(form.get('agency') || '').trim();
  say(status, 'info', 'Recording\u2026');
  await api.call('ConsentService', 'RecordRefusal', {subjectId: current.subjectId, agencyId});
  byId('refusal-form').reset();
  say(status, 'ok', 'Done: \u201cdo not share\u201d is in force ' +
      (agencyId ? 'for agency ' + agencyId : 'for every agency') + '.');
  await loadConsents();
}

// ---- 5. Access report --------------------------------------------------

async function report() {
  const status = byId('report-status');
  const list = byId('report');
  clear(list);
  say(status, 'info', 'Reading the audit log\u2026');
  let start = '0';
  let count = 0;
  for (let page = 0; page < 50; page++) {
    const answer = await api.call('AuditService', 'SubjectAccessReport',
        {subjectId: current.subjectId, start});
    for (const indexed of answer.entries || []) {
      const e = indexed.entry || {};
      const when = new Date(nanosToMillis(e.timeUnixNanos));
      const time = el('time', {datetime: when.toISOString()}, formatTime(when.getTime() / 1000));
      const item = el('li', {'data-test': 'report-entry', 'data-id': e.kind}, time, reportSentence(e));
      if (e.justification && e.kind !== 'DISCLOSURE') {
        item.appendChild(el('div', {class: 'note'}, 'Reason given: ' + e.justification));
      }
      list.appendChild(item);
      count++;
    }
    if (!answer.nextStart || answer.nextStart === '0') break;
    start = answer.nextStart;
  }
  say(status, 'ok', count ? count + ' events on record, oldest first.' : 'Nothing on record yet.');
}

// ---- Page -------------------------------------------------------------

async function main() {
  const session = await startPage(['ADVOCATE']);
  if (!session) return;
  checkboxes(byId('purposes'), 'purpose', PURPOSE_WORDS, CONSENT_PURPOSES);
  checkboxes(byId('categories'), 'category', CATEGORY_WORDS, Object.keys(CATEGORY_WORDS));
  const sectors = byId('grantee-sector');
  for (const key of Object.keys(SECTOR_WORDS)) {
    sectors.appendChild(el('option', {value: key}, words(SECTOR_WORDS, key)));
  }
  for (const id of ['grantee-kind-agency', 'grantee-kind-sector']) {
    byId(id).addEventListener('change', () => {
      const sector = byId('grantee-kind-sector').checked;
      show(byId('grantee-sector-row'), sector);
      show(byId('grantee-agency-row'), !sector);
    });
  }
  // Any change to the terms asks for a new preview.
  byId('consent-form').addEventListener('input', () => {
    if (previewed) {
      previewed = null;
      show(byId('save-consent-button'), false);
      say(byId('preview-status'), 'info', 'The terms changed: preview again before saving.');
    }
  });
  const describe = (error) => (error instanceof api.ApiError ? api.plainMessage(error) : error.message);
  onSubmit(byId('find-form'), byId('find-status'), find, describe);
  onSubmit(byId('consent-form'), byId('preview-status'), preview, describe);
  byId('save-consent-button').addEventListener('click', save);
  onSubmit(byId('refusal-form'), byId('refusal-status'), recordRefusal,
      (error) => 'Not recorded. ' + describe(error));
  byId('report-button').addEventListener('click', async () => {
    byId('report-button').disabled = true;
    try {
      await report();
    } catch (error) {
      say(byId('report-status'), 'error', 'Could not read the report: ' + describe(error));
    } finally {
      byId('report-button').disabled = false;
    }
  });
  byId('print-receipt').addEventListener('click', () => window.print());
  byId('close-receipt').addEventListener('click', () => show(byId('receipt-card'), false));
}

main();
