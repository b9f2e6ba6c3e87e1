// The auditor's page: browse the log, open an entry, and verify it in this
// browser with verify.js (WebCrypto only; no code shared with the node).
import {call, plainMessage, verifierKeys} from './api.js';
import {clear, el, formatTime, say} from './dom.js';
import {startPage} from './header.js';
import * as v from './verify.js';
import {CATEGORY_WORDS, KIND_NUMBER, KIND_WORDS, PURPOSE_WORDS, REASON_WORDS,
        nanosToMillis, words} from './words.js';

const KINDS = Object.keys(KIND_WORDS);
const kindWords = (k) => words(KIND_WORDS, k);
const categoryWords = (c) => words(CATEGORY_WORDS, c);
const purposeWords = (p) => words(PURPOSE_WORDS, p);
const reasonWords = (r) => words(REASON_WORDS, r);
const whenNanos = (n) => formatTime(nanosToMillis(n) / 1000) || 'unknown time';

const AUDIT = 'haven.v1.AuditService';
const PAGE = 25;
// FindEntries has no paging: it returns the first matches (oldest first),
// which this page then shows PAGE at a time.
const FIND_LIMIT = 1000;

const $ = (id) => document.getElementById(id);

// What the page is showing: either the log itself, a page at a time from
// the node (newest first), or the matches of a filter.
const state = {
  filter: null,      // null, or the FindEntriesRequest shown
  matches: [],       // filter results (IndexedEntry JSON)
  page: 0,           // filter: page number; log: unused
  logStart: null,    // log: index of the first entry shown
  logSize: 0n,       // log: size when the listing began
  current: null,     // the IndexedEntry opened
};

function status(text) {
  $('list-status').textContent = text;
}

function dayStartUnix(value) {
  // <input type=date> gives YYYY-MM-DD; the day starts at local midnight.
  const [y, m, d] = value.split('-').map(Number);
  return Math.floor(new Date(y, m - 1, d).getTime() / 1000);
}

function readFilter() {
  const kind = $('filter-kind').value;
  const agency = $('filter-agency').value.trim();
  const from = $('filter-from').value;
  const until = $('filter-until').value;
  if (!kind && !agency && !from && !until) return null;
  const req = {limit: FIND_LIMIT};
  if (kind) req.kind = kind;
  if (agency) req.agencyId = agency;
  if (from || until) {
    req.time = {};
    if (from) req.time.fromUnix = String(dayStartUnix(from));
    // Until is inclusive on the page and exclusive on the wire.
    if (until) req.time.untilUnix = String(dayStartUnix(until) + 86400);
  }
  return req;
}

function showRows(entries) {
  const body = $('entries').tBodies[0];
  clear(body);
  for (const item of entries) {
    const e = item.entry || {};
    const open = el('button', {type: 'button'}, 'Open');
    open.addEventListener('click', () => openEntry(item));
    body.append(el('tr', {},
        el('td', {}, String(item.index || '0')),
        el('td', {}, whenNanos(e.timeUnixNanos)),
        el('td', {}, kindWords(e.kind)),
        el('td', {}, e.agencyId || ''),
        el('td', {}, e.principal || ''),
        el('td', {}, open)));
  }
}

async function showLogPage() {
  const end = state.logStart + BigInt(PAGE);
  const count = (end > state.logSize ? state.logSize : end) - state.logStart;
  let entries = [];
  if (count > 0n) {
    const resp = await call(AUDIT, 'GetEntries',
                            {start: String(state.logStart), count: String(count)});
    entries = (resp.entries || []).slice().reverse();
  }
  showRows(entries);
  const last = state.logStart + BigInt(entries.length);
  $('page-where').textContent = entries.length === 0 ?
      'no entries' :
      'entries ' + state.logStart + ' to ' + (last - 1n) + ' of ' + state.logSize;
  $('page-newer').disabled = last >= state.logSize;
  $('page-older').disabled = state.logStart === 0n;
  status(state.logSize === 0n ? 'The log is empty.' : '');
}

function showMatchPage() {
  const pages = Math.max(1, Math.ceil(state.matches.length / PAGE));
  // Newest first, like the log itself.
  const newestFirst = state.matches.slice().reverse();
  showRows(newestFirst.slice(state.page * PAGE, (state.page + 1) * PAGE));
  $('page-where').textContent = 'page ' + (state.page + 1) + ' of ' + pages;
  $('page-newer').disabled = state.page === 0;
  $('page-older').disabled = state.page + 1 >= pages;
  let text = state.matches.length === 1 ? '1 matching entry.' :
      state.matches.length + ' matching entries.';
  if (state.matches.length === 0) text = 'No entry matches.';
  if (state.matches.length >= FIND_LIMIT) {
    text = 'The first ' + FIND_LIMIT + ' matching entries; narrow the dates to see later ones.';
  }
  status(text);
}

async function list() {
  state.filter = readFilter();
  status('Loading…');
  try {
    if (state.filter) {
      const resp = await call(AUDIT, 'FindEntries', state.filter);
      state.matches = resp.entries || [];
      state.page = 0;
      showMatchPage();
    } else {
      const cp = await call(AUDIT, 'GetCheckpoint', {});
      state.logSize = BigInt(cp.checkpoint?.treeSize || '0');
      const start = state.logSize - BigInt(PAGE);
      state.logStart = start > 0n ? start : 0n;
      await showLogPage();
    }
  } catch (e) {
    showRows([]);
    status('Could not read the log: ' + plainMessage(e));
  }
}

async function turn(older) {
  try {
    if (state.filter) {
      state.page += older ? 1 : -1;
      showMatchPage();
      return;
    }
    let start = state.logStart + BigInt(older ? -PAGE : PAGE);
    if (start < 0n) start = 0n;
    state.logStart = start;
    await showLogPage();
  } catch (e) {
    status('Could not read the log: ' + plainMessage(e));
  }
}

// ---- one entry --------------------------------------------------------------

// Adds one term; the console's JSON has every field, zeros included, so
// empty and zero values are left out.
function term(dl, name, value) {
  if (value === undefined || value === null || value === '' || value === 0 ||
      value === '0' || (Array.isArray(value) && value.length === 0)) {
    return;
  }
  dl.append(el('dt', {}, name), el('dd', {}, String(value)));
}

function openEntry(item) {
  state.current = item;
  const e = item.entry || {};
  const dl = $('entry-fields');
  clear(dl);
  dl.append(el('dt', {}, 'Entry'), el('dd', {}, String(item.index || '0')));
  term(dl, 'What happened', kindWords(e.kind));
  term(dl, 'When', whenNanos(e.timeUnixNanos));
  term(dl, 'Agency', e.agencyId);
  term(dl, 'Who acted', e.principal);
  term(dl, 'Subject (pseudonym)', e.subjectPseudonym);
  if (e.purpose) term(dl, 'Purpose', purposeWords(e.purpose));
  term(dl, 'Asked for', (e.asked || []).map(categoryWords).join('; '));
  term(dl, 'Given', (e.given || []).map(categoryWords).join('; '));
  term(dl, 'Withheld', (e.withheld || []).map(
      (w) => categoryWords(w.category) + ': ' + reasonWords(w.reason)).join('; '));
  if (e.breakGlass) term(dl, 'Emergency rule', 'yes: to be reviewed');
  term(dl, 'Justification', e.justification);
  term(dl, 'Consents relied on', (e.consentIds || []).join(', '));
  term(dl, 'Consent version', e.consentVersion);
  term(dl, 'Policy version', e.policyVersion);
  term(dl, 'Request', e.requestId);
  term(dl, 'Detail', e.detail);
  if (!item.entry) term(dl, 'Note', 'too large to show; it can still be verified');
  $('verify-result').hidden = true;
  clear($('verify-steps'));
  $('entry').hidden = false;
  $('entry').scrollIntoView();
}

// The last checkpoint this browser verified, per log. Only log metadata
// (origin, tree size, root hash and the signed note) is kept in
// localStorage, so that the next visit can check the log still extends
// it; never an entry or anything of a record.
const SEEN_PREFIX = 'haven.checkpointSeen.';

function loadSeen(origin) {
  try {
    const raw = localStorage.getItem(SEEN_PREFIX + origin);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function saveSeen(cp) {
  localStorage.setItem(SEEN_PREFIX + cp.origin, JSON.stringify({
    origin: cp.origin,
    treeSize: cp.treeSize.toString(),
    rootHash: v.b64encode(cp.rootHash),
    note: cp.note,
  }));
}

function step(text) {
  $('verify-steps').append(el('li', {}, text));
}

// Checks that the entry shown is the one whose bytes are proven: the
// node sends both the leaf and the entry parsed, and only the leaf is
// covered by the proof.
function checkShownEntry(item, leaf) {
  const logged = v.readLoggedEntry(leaf);
  const e = item.entry;
  if (!e) return;
  const kind = e.kind === undefined ? 0 :
      typeof e.kind === 'number' ? e.kind : KIND_NUMBER[e.kind];
  const same = (kind === undefined || logged.kind === kind) &&
      logged.timeUnixNanos === BigInt(e.timeUnixNanos || '0') &&
      logged.agencyId === (e.agencyId || '') &&
      logged.principal === (e.principal || '') &&
      logged.subjectPseudonym === (e.subjectPseudonym || '') &&
      logged.requestId === (e.requestId || '') &&
      logged.detail === (e.detail || '') &&
      logged.justification === (e.justification || '');
  if (!same) fail('the entry shown is not the entry logged');
}

function fail(message) {
  throw new v.VerifyError(message);
}

async function verifyCurrent() {
  const item = state.current;
  const result = $('verify-result');
  clear($('verify-steps'));
  say(result, 'info', 'Verifying…');
  try {
    const index = BigInt(item.index || '0');
    const leaf = v.b64decode(item.leaf || '');
    checkShownEntry(item, leaf);

    const pinned = await verifierKeys();
    step('verifier key pinned by the console\'s operator: ' +
         (pinned.length ? pinned.join(', ') : 'none'));
    const got = await call(AUDIT, 'GetCheckpoint', {});
    const cp = await v.verifyCheckpoint(got.checkpoint?.note, pinned);
    step('checkpoint of ' + cp.origin + ', ' + cp.treeSize +
         ' entries: signature valid');

    if (index >= cp.treeSize) fail('the entry is not yet covered by a checkpoint');
    const resp = await call(AUDIT, 'GetInclusionProof',
                            {leafIndex: index.toString(), treeSize: cp.treeSize.toString()});
    const proof = resp.proof || {};
    if (BigInt(proof.leafIndex || '0') !== index ||
        BigInt(proof.treeSize || '0') !== cp.treeSize) {
      fail('the node sent a proof for another entry or log size');
    }
    const hash = await v.leafHash(leaf);
    if (proof.leafHash && !v.bytesEqual(hash, v.b64decode(proof.leafHash))) {
      fail('the proof is for other bytes than this entry');
    }
    await v.verifyInclusion(index, cp.treeSize, hash,
                            (proof.hashes || []).map(v.b64decode), cp.rootHash);
    step('entry ' + index + ' is in the log: inclusion proof of ' +
         (proof.hashes || []).length + ' hashes leads to the signed root');

    const seen = loadSeen(cp.origin);
    if (seen) {
      // Checked again: storage is not trusted to hold what was verified.
      const old = await v.verifyCheckpoint(seen.note, pinned);
      if (old.treeSize > cp.treeSize) {
        fail('the log is smaller (' + cp.treeSize + ') than a checkpoint this ' +
             'browser saw before (' + old.treeSize + ')');
      }
      let hashes = [];
      if (old.treeSize !== cp.treeSize && old.treeSize > 0n) {
        const c = await call(AUDIT, 'GetConsistencyProof',
                             {oldSize: old.treeSize.toString(),
                              newSize: cp.treeSize.toString()});
        hashes = (c.proof?.hashes || []).map(v.b64decode);
      }
      await v.verifyConsistency(old.treeSize, cp.treeSize, hashes, old.rootHash,
                                cp.rootHash);
      step('the log extends the checkpoint this browser saw before (' +
           old.treeSize + ' entries)');
    } else {
      step('first checkpoint this browser sees of this log: kept to compare next time');
    }
    if (!seen || BigInt(seen.treeSize) <= cp.treeSize) saveSeen(cp);
    say(result, 'ok', 'Verified in this browser.');
  } catch (e) {
    say(result, 'error', 'Verification failed: ' +
        (e instanceof v.VerifyError ? e.message : plainMessage(e)));
  }
}

async function init() {
  if (!await startPage(['AUDITOR', 'ADMIN'])) return;
  const select = $('filter-kind');
  for (const k of KINDS) select.append(el('option', {value: k}, kindWords(k)));
  $('filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    list();
  });
  $('filter-clear').addEventListener('click', () => {
    $('filter').reset();
    list();
  });
  $('page-newer').addEventListener('click', () => turn(false));
  $('page-older').addEventListener('click', () => turn(true));
  $('verify').addEventListener('click', verifyCurrent);
  list();
}

init();
