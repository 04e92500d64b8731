// Syntax highlighting for Python and JSON, built as DOM nodes (never
// innerHTML): the code shown is untrusted.

const PY_KEYWORDS = new Set(("False None True and as assert async await break class continue def del elif else except " +
  "finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case").split(" "));
const PY_BUILTINS = new Set(("abs all any bool dict enumerate filter float int isinstance len list map max min print range " +
  "reversed round set sorted str sum tuple zip").split(" "));

const PY_TOKEN = new RegExp([
  "(#[^\\n]*)",                                                     // 1 comment
  "((?:[rRbBfFuU]{1,2})?(?:'''[\\s\\S]*?'''|\"\"\"[\\s\\S]*?\"\"\"|'(?:\\\\.|[^'\\\\\\n])*'|\"(?:\\\\.|[^\"\\\\\\n])*\"))", // 2 string
  "(\\b\\d[\\d_]*(?:\\.\\d*)?(?:[eE][+-]?\\d+)?\\b)",                 // 3 number
  "(@[A-Za-z_][\\w.]*)",                                            // 4 decorator
  "([A-Za-z_]\\w*)",                                                // 5 word
].join("|"), "g");

function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

/** Python source as highlighted nodes. */
export function python(code) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of code.matchAll(PY_TOKEN)) {
    if (m.index > last) out.append(code.slice(last, m.index));
    const [text, comment, string, number, decorator, word] = m;
    if (comment) out.append(span("tok-comment", text));
    else if (string) out.append(span("tok-string", text));
    else if (number) out.append(span("tok-number", text));
    else if (decorator) out.append(span("tok-decorator", text));
    else if (word && PY_KEYWORDS.has(word)) out.append(span("tok-keyword", text));
    else if (word && PY_BUILTINS.has(word)) out.append(span("tok-builtin", text));
    else if (word && code[m.index + text.length] === "(") out.append(span("tok-call", text));
    else out.append(text);
    last = m.index + text.length;
  }
  if (last < code.length) out.append(code.slice(last));
  return out;
}

const JSON_TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b/g;

/** A value as pretty JSON, highlighted. */
export function json(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2) ?? "null";
  const out = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(JSON_TOKEN)) {
    if (m.index > last) out.append(text.slice(last, m.index));
    const [all, str, colon, num, lit] = m;
    if (str && colon) { out.append(span("tok-key", str)); out.append(colon); }
    else if (str) out.append(span("tok-string", str));
    else if (num) out.append(span("tok-number", num));
    else if (lit) out.append(span("tok-keyword", lit));
    last = m.index + all.length;
  }
  if (last < text.length) out.append(text.slice(last));
  return out;
}

/** A <pre><code> block of `nodes`. */
export function block(nodes, cls = "") {
  const pre = document.createElement("pre");
  if (cls) pre.className = cls;
  const code = document.createElement("code");
  code.append(nodes);
  pre.append(code);
  return pre;
}
