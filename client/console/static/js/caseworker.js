// The caseworker's page: handles received from holders, a disclosure
// request to one holder, and its answer: the fields that came (as text)
// and, per category withheld, why not. Nothing of the answer is stored in
// the browser; it lives only in this page until it is left.
import {call, plainMessage} from './api.js';
import {clear, el, formatTime, say} from './dom.js';
import {startPage} from './header.js';
import {CATEGORY_WORDS, PURPOSE_WORDS, REASON_WORDS, words} from './words.js';

const CATEGORIES = Object.keys(CATEGORY_WORDS);
const PURPOSES = Object.keys(PURPOSE_WORDS);
const categoryWords = (c) => words(CATEGORY_WORDS, c);
const purposeWords = (p) => words(PURPOSE_WORDS, p);
const reasonWords = (r) => words(REASON_WORDS, r);

const EXCHANGE = 'haven.v1.ExchangeService';
const $ = (id) => document.getElementById(id);

let nextPageToken = '';
let chosen = null;  // the SubjectHandle asked about

async function loadHandles(more) {
  const body = $('handles').tBodies[0];
  if (!more) {
    clear(body);
    nextPageToken = '';
  }
  $('handles-status').textContent = 'Loading…';
  try {
    const resp = await call(EXCHANGE, 'ListHandles',
                            {pageSize: 100, pageToken: nextPageToken});
    for (const h of resp.handles || []) {
      const ask = el('button', {type: 'button'}, 'Ask');
      ask.addEventListener('click', () => choose(h));
      body.append(el('tr', {},
          el('td', {}, h.holderAgencyId || ''),
          el('td', {}, formatTime(h.issuedUnix)),
          el('td', {}, el('code', {}, h.handle || '')),
          el('td', {}, ask)));
    }
    nextPageToken = resp.nextPageToken || '';
    $('handles-more').hidden = !nextPageToken;
    $('handles-status').textContent =
        body.rows.length === 0 ? 'No partner agency has given this agency a handle yet.' : '';
  } catch (e) {
    $('handles-status').textContent = 'Could not list handles: ' + plainMessage(e);
  }
}

function choose(handle) {
  chosen = handle;
  $('ask-holder').textContent = handle.holderAgencyId || '';
  $('ask-handle').textContent = handle.handle || '';
  $('ask-status').textContent = '';
  $('answer').hidden = true;
  $('ask').hidden = false;
  $('ask').scrollIntoView();
}

function decodeValue(b64) {
  // Field values are bytes (base64 in JSON); shown as UTF-8 text.
  const bin = atob(b64 || '');
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder('utf-8', {fatal: false}).decode(bytes);
}

function showAnswer(resp) {
  const body = $('answer-fields').tBodies[0];
  clear(body);
  const fields = resp.fields || [];
  for (const f of fields) {
    body.append(el('tr', {},
        el('td', {}, f.name || ''),
        el('td', {}, categoryWords(f.category)),
        el('td', {}, decodeValue(f.value))));
  }
  $('answer-fields').hidden = fields.length === 0;
  $('answer-none').hidden = fields.length !== 0;
  const list = $('answer-decisions');
  clear(list);
  for (const c of resp.decision?.categories || []) {
    const what = categoryWords(c.category);
    const text = c.allowed ?
        what + ': given (' + reasonWords(c.reason) + ')' :
        what + ': withheld, because ' + reasonWords(c.reason) + '.';
    const item = el('li', {class: c.allowed ? 'given' : 'withheld'}, text);
    if (!c.allowed && c.explanation) {
      item.append(el('br', {}), el('span', {class: 'explanation'},
                                     'The holder says: ' + c.explanation));
    }
    list.append(item);
  }
  let record = 'On record at ' + (chosen?.holderAgencyId || 'the holder') +
      ' (entry ' + (resp.holderAuditIndex || '0') + ') and at this agency (entry ' +
      (resp.receiptAuditIndex || '0') + ').';
  if (resp.dataLifeSeconds && resp.dataLifeSeconds !== '0') {
    const days = Math.round(Number(resp.dataLifeSeconds) / 86400);
    record += ' The holder allows keeping this data for ' + days + ' days.';
  }
  $('answer-record').textContent = record;
  $('answer').hidden = false;
  $('answer').scrollIntoView();
}

async function ask(ev) {
  ev.preventDefault();
  if (!chosen) return;
  const categories = Array.from(
      $('ask-categories').querySelectorAll('input:checked'), (i) => i.value);
  if (categories.length === 0) {
    $('ask-status').textContent = 'Choose at least one category.';
    return;
  }
  const req = {
    holderAgencyId: chosen.holderAgencyId,
    handle: chosen.handle,
    purpose: $('ask-purpose').value,
    categories,
  };
  const justification = $('ask-justification').value.trim();
  if (justification) req.justification = justification;
  $('ask-send').disabled = true;
  $('ask-status').textContent = 'Asking ' + chosen.holderAgencyId + '…';
  try {
    const resp = await call(EXCHANGE, 'RequestDisclosure', req);
    say($('ask-status'), 'ok', 'Answered.');
    showAnswer(resp);
  } catch (e) {
    $('answer').hidden = true;
    say($('ask-status'), 'error', 'The request was refused: ' + plainMessage(e));
  } finally {
    $('ask-send').disabled = false;
  }
}

async function init() {
  if (!await startPage(['CASEWORKER'])) return;
  const purpose = $('ask-purpose');
  for (const p of PURPOSES) purpose.append(el('option', {value: p}, purposeWords(p)));
  const box = $('ask-categories');
  for (const c of CATEGORIES) {
    box.append(el('label', {class: 'choice'},
        el('input', {type: 'checkbox', value: c, name: 'category'}),
        ' ' + categoryWords(c)));
  }
  $('ask-form').addEventListener('submit', ask);
  $('handles-more').addEventListener('click', () => loadHandles(true));
  loadHandles(false);
}

init();
