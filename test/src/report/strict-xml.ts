// A small, strict XML 1.0 well-formedness parser for tests: balanced tags, quoted and
// unique attributes, only the five predefined entities and character references, no
// '<' in attribute values, and only characters XML 1.0 allows. Throws on anything else.
// (xmllint --noout is used too when installed; this keeps the tests meaningful without it.)

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function legalChar(code: number): boolean {
  return code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
}

function checkChars(s: string, where: number): void {
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    // A lone surrogate comes out of the iterator as itself (0xd800-0xdfff): not legal.
    if (!legalChar(code)) throw new Error(`illegal character U+${code.toString(16).padStart(4, '0')} near offset ${where}`);
  }
}

function decode(raw: string, where: number, inAttribute: boolean): string {
  if (inAttribute && raw.includes('<')) throw new Error(`'<' in an attribute value near offset ${where}`);
  return raw.replace(/&([^;\s&]*);?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new Error(`bare '&' near offset ${where}`);
    if (body in ENTITIES) return ENTITIES[body]!;
    const m = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(body);
    if (!m) throw new Error(`unknown entity &${body}; near offset ${where}`);
    const code = m[1]!.startsWith('x') ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
    if (!legalChar(code)) throw new Error(`character reference to illegal U+${code.toString(16)} near offset ${where}`);
    return String.fromCodePoint(code);
  });
}

export function parseXml(xml: string): XmlElement {
  checkChars(xml, 0);
  let i = 0;
  const skipSpace = (): void => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    if (xml[i] === '<') {
      if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) throw new Error('unterminated comment');
        i = end + 3;
        continue;
      }
      if (xml.startsWith('<![CDATA[', i)) {
        const end = xml.indexOf(']]>', i);
        if (end < 0 || stack.length === 0) throw new Error('bad CDATA section');
        stack[stack.length - 1]!.text += xml.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      if (xml[i + 1] === '/') {
        i += 2;
        const m = NAME.exec(xml.slice(i));
        if (!m) throw new Error(`bad end tag at ${i}`);
        i += m[0].length;
        skipSpace();
        if (xml[i] !== '>') throw new Error(`bad end tag at ${i}`);
        i++;
        const open = stack.pop();
        if (!open || open.name !== m[0]) throw new Error(`</${m[0]}> does not close <${open?.name ?? 'nothing'}> at ${i}`);
        continue;
      }
      i++;
      const m = NAME.exec(xml.slice(i));
      if (!m) throw new Error(`bad start tag at ${i}`);
      if (root && stack.length === 0) throw new Error('more than one root element');
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      i += m[0].length;
      for (;;) {
        const before = i;
        skipSpace();
        if (xml[i] === '/' && xml[i + 1] === '>') {
          i += 2;
          if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
          else root = el;
          break;
        }
        if (xml[i] === '>') {
          i++;
          if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
          else root = el;
          stack.push(el);
          break;
        }
        if (i === before) throw new Error(`attributes must be separated by whitespace at ${i}`);
        const a = NAME.exec(xml.slice(i));
        if (!a) throw new Error(`bad attribute name at ${i}`);
        i += a[0].length;
        if (xml[i] !== '=') throw new Error(`attribute ${a[0]} without '=' at ${i}`);
        i++;
        const quote = xml[i];
        if (quote !== '"' && quote !== "'") throw new Error(`unquoted attribute ${a[0]} at ${i}`);
        const end = xml.indexOf(quote, i + 1);
        if (end < 0) throw new Error(`unterminated attribute ${a[0]}`);
        if (a[0] in el.attrs) throw new Error(`duplicate attribute ${a[0]} at ${i}`);
        // Attribute-value normalisation: literal tabs and line breaks become spaces; references survive.
        el.attrs[a[0]] = decode(xml.slice(i + 1, end).replace(/[\t\n\r]/g, ' '), i, true);
        i = end + 1;
      }
      continue;
    }
    const next = xml.indexOf('<', i);
    const raw = xml.slice(i, next < 0 ? xml.length : next);
    if (raw.includes(']]>')) throw new Error(`']]>' in text at ${i}`);
    if (stack.length === 0) {
      if (raw.trim() !== '') throw new Error(`text outside the root element at ${i}`);
    } else {
      stack[stack.length - 1]!.text += decode(raw, i, false);
    }
    i = next < 0 ? xml.length : next;
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (!root) throw new Error('no root element');
  return root;
}

/** All descendants (depth first) named `name`. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const child of el.children) {
    if (child.name === name) out.push(child);
    out.push(...findAll(child, name));
  }
  return out;
}
