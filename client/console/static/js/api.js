// api.js: the one way the pages talk to haven-console (README, "Console").
// Same-origin fetches only, JSON in and out, the CSRF header on every state
// change; every failure becomes an ApiError with the node's code and
// message. Nothing is kept in browser storage: the CSRF token lives in this
// module's memory and is fetched again on each page load.

let csrfToken = '';

// An error from the console or the node. `code` is a gRPC code name
// (UNAUTHENTICATED, PERMISSION_DENIED, ...) or NETWORK; `status` the HTTP
// status (0 when the console could not be reached).
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// Plain words for an error, for people who are not IT staff.
export function plainMessage(error) {
  if (!(error instanceof ApiError)) {
    return 'Something went wrong in this page: ' + String(error && error.message || error);
  }
  const lead = {
    UNAUTHENTICATED: 'You are not signed in, or your session has ended. Please sign in again.',
    PERMISSION_DENIED: 'This was refused: your role does not allow it, or the page is out of date.',
    NOT_FOUND: 'Not found.',
    INVALID_ARGUMENT: 'The node could not accept what was entered.',
    FAILED_PRECONDITION: 'This cannot be done right now.',
    ALREADY_EXISTS: 'This already exists.',
    RESOURCE_EXHAUSTED: 'Too many attempts or too much at once. Please wait and try again.',
    UNAVAILABLE: 'The node is not answering. Nothing was changed; please try again later.',
    DEADLINE_EXCEEDED: 'The node took too long to answer. Check whether the change was made before trying again.',
    NETWORK: 'The console could not be reached. Check the connection and try again.',
  }[error.code] || 'The node refused or failed.';
  return error.message ? lead + ' (' + error.message + ')' : lead;
}

// Listeners told when a call comes back 401 (the session has ended).
const signedOutListeners = [];
export function onSignedOut(listener) {
  signedOutListeners.push(listener);
}

async function send(method, path, body, withCsrf) {
  const headers = {'Accept': 'application/json'};
  const init = {method, credentials: 'same-origin', cache: 'no-store', headers,
                redirect: 'error', referrerPolicy: 'no-referrer'};
  if (method === 'POST') {
    headers['Content-Type'] = 'application/json';
    if (withCsrf) headers['X-Haven-CSRF'] = csrfToken;
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'NETWORK', '');
  }
  let json = null;
  try {
    json = await response.json();
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    const code = json && typeof json.code === 'string' ? json.code : 'UNKNOWN';
    const message = json && typeof json.message === 'string' ? json.message : ('HTTP ' + response.status);
    const error = new ApiError(response.status, code, message);
    if (response.status === 401) {
      csrfToken = '';
      for (const listener of signedOutListeners) listener(error);
    }
    throw error;
  }
  return json || {};
}

function remember(session) {
  csrfToken = typeof session.csrfToken === 'string' ? session.csrfToken : '';
  const copy = Object.assign({}, session);
  delete copy.csrfToken;
  return copy;
}

// Who is signed in: WhoAmIResponse fields (name, role, personal,
// idleExpiresUnix, absoluteExpiresUnix), or null when nobody is.
export async function getSession() {
  try {
    return remember(await send('GET', '/api/session'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signIn(name, password, totpCode) {
  return remember(await send('POST', '/api/sign-in',
                             {name, password, totpCode}, false));
}

// -> BeginEnrolmentResponse: {totp: {otpauthUri, qrSize, qrModules (base64)}}
export function beginEnrolment(name, enrolmentCode, newPassword) {
  return send('POST', '/api/enrol/begin', {name, enrolmentCode, newPassword}, false);
}

export function confirmEnrolment(name, enrolmentCode, totpCode) {
  return send('POST', '/api/enrol/confirm', {name, enrolmentCode, totpCode}, false);
}

export async function signOut() {
  try {
    await send('POST', '/api/sign-out', {}, true);
  } finally {
    csrfToken = '';
  }
}

// Calls a method of the node: call('ConsentService', 'RecordConsent', {...})
// or with the full name 'haven.v1.ConsentService'. Request and answer in
// protobuf's JSON mapping (lowerCamelCase names, enums by name, int64 as
// strings, bytes as base64; the answer has every field, zeros included).
export function call(service, method, request) {
  const full = service.includes('.') ? service : 'haven.v1.' + service;
  return send('POST', '/api/call/' + full + '/' + method, request || {}, true);
}

// The node's checkpoint verifier keys pinned in haven-console's flags.
export async function verifierKeys() {
  const answer = await send('GET', '/api/verifier-keys');
  return Array.isArray(answer.keys) ? answer.keys : [];
}
