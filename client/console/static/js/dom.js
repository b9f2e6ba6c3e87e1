// dom.js: building pages from node data safely. Values are only ever set
// as text (textContent, createTextNode) or as attributes through
// setAttribute with a fixed list of names; never innerHTML, never an
// event-handler attribute, never a URL built from node data.

const ALLOWED_ATTRIBUTES = new Set([
  'id', 'class', 'type', 'name', 'value', 'for', 'placeholder', 'required',
  'min', 'max', 'minlength', 'maxlength', 'pattern', 'inputmode',
  'autocomplete', 'disabled', 'checked', 'selected', 'multiple', 'rows',
  'cols', 'role', 'hidden', 'width', 'height', 'datetime', 'title',
  'aria-live', 'aria-label', 'aria-describedby', 'aria-hidden',
  'data-test', 'data-id', 'data-index', 'viewBox', 'x', 'y', 'fill',
  'shape-rendering', 'xmlns', 'tabindex', 'open', 'colspan', 'scope',
]);

function setAttributes(node, attributes) {
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (!ALLOWED_ATTRIBUTES.has(key)) {
      throw new Error('dom.js: attribute not allowed: ' + key);
    }
    node.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// el('p', {class: 'note'}, 'text', otherNode, ...): an element whose
// children are nodes or text (strings are always text, never HTML).
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

// An SVG element (for drawing, e.g. the enrolment QR code).
export function svg(tag, attributes, ...children) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(node, attributes);
  append(node, children);
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error('dom.js: no element #' + id);
  return node;
}

// Sets a node's text (never HTML).
export function setText(node, value) {
  node.textContent = value === undefined || value === null ? '' : String(value);
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// Replaces a node's children.
export function replace(node, ...children) {
  clear(node);
  append(node, children);
  return node;
}

export function show(node, visible = true) {
  node.hidden = !visible;
  return node;
}

// Shows a message in a status element: kind 'error', 'ok' or 'info'.
export function say(node, kind, message) {
  node.className = 'status status-' + kind;
  node.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  setText(node, message);
  node.hidden = false;
  return node;
}

// Seconds since 1970 (number or int64 string) as a local date and time;
// '' for 0 or nothing.
export function formatTime(unix) {
  const seconds = Number(unix || 0);
  if (!seconds) return '';
  return new Date(seconds * 1000).toLocaleString(undefined, {
    year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

// Runs `action` on a form's submit with its button disabled meanwhile;
// errors go to `status` as text (never a silent failure).
export function onSubmit(form, status, action, describe) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await action(new FormData(form));
    } catch (error) {
      say(status, 'error', describe ? describe(error) : String(error && error.message || error));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}
