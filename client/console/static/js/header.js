// header.js: the header on every signed-in page: who am I and my role,
// sign out, the node's health and the peers' witness state. Each page
// calls startPage(), which sends a person who is not signed in back to the
// sign-in page.
import * as api from './api.js';
import {el, byId, replace, say, setText, formatTime} from './dom.js';

export const ROLE_WORDS = {
  ADVOCATE: 'Advocate',
  AUDITOR: 'Auditor',
  CASEWORKER: 'Caseworker',
  ADMIN: 'Administrator',
};

export const ROLE_PAGES = {
  ADVOCATE: 'advocate.html',
  AUDITOR: 'auditor.html',
  CASEWORKER: 'caseworker.html',
  ADMIN: 'auditor.html',
};

// A banner shown when any call finds the session ended.
function sessionEnded(error) {
  const banner = document.getElementById('session-banner');
  if (banner) {
    say(banner, 'error', 'Your session has ended (signed out, or idle for too long). ' +
        'Nothing more can be done on this page until you sign in again.');
    const link = el('a', {id: 'sign-in-again'}, 'Sign in again');
    link.href = 'index.html';
    banner.appendChild(document.createTextNode(' '));
    banner.appendChild(link);
  }
}

async function showHealth(target) {
  try {
    const status = await api.call('AdminService', 'GetStatus', {});
    const serving = status.peerServing && status.peerServing.state;
    const ok = !serving || serving === 'SERVING' || serving === 'STATE_UNSPECIFIED';
    replace(target, el('span', {class: ok ? 'health-ok' : 'health-bad', 'data-test': 'node-health'},
        'Node ' + status.agencyId + ': ' + (ok ? 'working' : 'not serving its peers') +
        (status.peerServing && status.peerServing.detail ? ' (' + status.peerServing.detail + ')' : '') +
        '; audit log holds ' + status.auditTreeSize + ' entries.'));
  } catch (error) {
    replace(target, el('span', {class: 'health-bad', 'data-test': 'node-health'},
        'Node health unknown: ' + api.plainMessage(error)));
  }
}

async function showWitnesses(target) {
  try {
    const answer = await api.call('AuditService', 'GetWitnessed', {agencyId: ''});
    const items = (answer.witnessed || []).map((w) => el('li', {},
        w.agencyId + ': log checked up to entry ' + (w.checkpoint ? w.checkpoint.treeSize : '?') +
        (Number(w.verifiedUnix) ? ', last checked ' + formatTime(w.verifiedUnix) : '')));
    const failures = (answer.failures || []).map((f) => el('li', {class: 'health-bad'},
        f.agencyId + ': a check FAILED (' + f.kind + ')' + (f.detail ? ': ' + f.detail : '')));
    if (items.length === 0 && failures.length === 0) {
      replace(target, el('span', {}, 'Peers: no peer checkpoint checked yet.'));
    } else {
      replace(target, el('span', {}, 'Peers:'), el('ul', {class: 'witness-list'}, items, failures));
    }
  } catch (error) {
    replace(target, el('span', {class: 'health-bad'}, 'Peers\u2019 state unknown: ' + api.plainMessage(error)));
  }
}

// Fills the page header; returns the session (WhoAmI fields), or null
// after sending the browser to the sign-in page. `expectedRoles` lists the
// roles the page is for; another role sees a note, not an error later.
export async function startPage(expectedRoles) {
  api.onSignedOut(sessionEnded);
  let session;
  try {
    session = await api.getSession();
  } catch (error) {
    const banner = document.getElementById('session-banner');
    if (banner) say(banner, 'error', api.plainMessage(error));
    return null;
  }
  if (!session) {
    window.location.replace('index.html');
    return null;
  }
  const header = byId('page-header');
  const who = el('span', {class: 'who', 'data-test': 'who-am-i'},
      'Signed in as ' + session.name + ' (' + (ROLE_WORDS[session.role] || session.role) + ')');
  const out = el('button', {type: 'button', id: 'sign-out'}, 'Sign out');
  const outStatus = el('span', {class: 'status', hidden: true});
  out.addEventListener('click', async () => {
    out.disabled = true;
    try {
      await api.signOut();
      window.location.replace('index.html');
    } catch (error) {
      say(outStatus, 'error', 'Sign-out failed: ' + api.plainMessage(error));
      out.disabled = false;
    }
  });
  const health = el('div', {class: 'health', id: 'node-health'}, 'Checking the node\u2026');
  const witnesses = el('div', {class: 'health', id: 'peer-witness'}, 'Checking the peers\u2026');
  replace(header,
      el('div', {class: 'header-row'},
          el('strong', {class: 'brand'}, 'Haven console'), who, out, outStatus),
      health, witnesses);
  if (expectedRoles && !expectedRoles.includes(session.role)) {
    const banner = document.getElementById('session-banner');
    if (banner) {
      say(banner, 'info', 'This page is for ' + expectedRoles.map((r) => ROLE_WORDS[r] || r).join(' or ') +
          ' accounts; the node will refuse what your role may not do.');
    }
  }
  showHealth(health);
  showWitnesses(witnesses);
  return session;
}

export {setText};
