// The sign-in and enrolment page.
import * as api from './api.js';
import {byId, say, show, setText, onSubmit} from './dom.js';
import {ROLE_PAGES} from './header.js';

function goHome(session) {
  window.location.replace(ROLE_PAGES[session.role] || 'caseworker.html');
}

// Draws the QR modules (one byte per module, 1 dark) with a 4-module
// quiet zone on a canvas.
function drawQr(canvas, size, modulesBase64) {
  const modules = Uint8Array.from(atob(modulesBase64), (c) => c.charCodeAt(0));
  if (!size || modules.length !== size * size) {
    throw new Error('the node sent a QR code of the wrong size');
  }
  const scale = 6;
  const quiet = 4;
  canvas.width = canvas.height = (size + 2 * quiet) * scale;
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#000';
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (modules[y * size + x]) {
        context.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
      }
    }
  }
}

async function main() {
  const status = byId('page-status');
  try {
    const session = await api.getSession();
    if (session) {
      goHome(session);
      return;
    }
  } catch (error) {
    say(status, 'error', api.plainMessage(error));
  }

  const signInStatus = byId('sign-in-status');
  onSubmit(byId('sign-in-form'), signInStatus, async (form) => {
    say(signInStatus, 'info', 'Signing in\u2026');
    const session = await api.signIn(String(form.get('name')).trim(),
        String(form.get('password')), String(form.get('totpCode')).trim());
    say(signInStatus, 'ok', 'Signed in.');
    goHome(session);
  }, (error) => {
    if (error.code === 'UNAUTHENTICATED') {
      return 'Sign-in refused: the name, password or code is not right. ' +
          'After several failures the account waits before the next try.';
    }
    return 'Sign-in failed. ' + api.plainMessage(error);
  });

  const enrolStatus = byId('enrol-status');
  let enrolling = null;
  onSubmit(byId('enrol-form'), enrolStatus, async (form) => {
    const name = String(form.get('name')).trim();
    const code = String(form.get('enrolmentCode')).trim();
    const answer = await api.beginEnrolment(name, code, String(form.get('newPassword')));
    const totp = answer.totp || {};
    enrolling = {name, code};
    setText(byId('enrol-uri'), totp.otpauthUri || '');
    drawQr(byId('enrol-qr'), Number(totp.qrSize || 0), totp.qrModules || '');
    show(byId('enrol-totp'));
    say(enrolStatus, 'info', 'Step 2 of 2: add the key to your authenticator app and enter its code.');
  }, (error) => 'Could not start setting up the account. ' + api.plainMessage(error));

  onSubmit(byId('enrol-confirm-form'), enrolStatus, async (form) => {
    if (!enrolling) throw new Error('start with your name, enrolment code and password');
    await api.confirmEnrolment(enrolling.name, enrolling.code, String(form.get('totpCode')).trim());
    enrolling = null;
    show(byId('enrol-totp'), false);
    setText(byId('enrol-uri'), '');
    byId('enrol-form').reset();
    say(enrolStatus, 'ok', 'Your account is ready. Sign in above with your password and a new code from the app.');
  }, (error) => 'The code was not accepted. ' + api.plainMessage(error));
}

main();
