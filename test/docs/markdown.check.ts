import MarkdownIt, { type Token } from 'markdown-it';

// Checks that a Markdown file renders the way its author meant, with a CommonMark parser that
// has GitHub's tables (markdown-it): defects that no formatter reports because the result is
// still valid Markdown, only not the document that was written.

export interface MarkdownProblem {
  /** 1-based, as editors count. */
  line: number;
  message: string;
}

/** Whether a link's target exists; gets the path part of the link (no #anchor), decoded. */
export type TargetExists = (target: string) => boolean;

// HTML as GitHub shows it, GFM tables (on in markdown-it's default preset).
const parser = new MarkdownIt({ html: true });

export function findMarkdownProblems(source: string, targetExists: TargetExists): MarkdownProblem[] {
  const lines = source.split('\n');
  const tokens = parser.parse(source, {});
  const problems = [
    ...fenceProblems(tokens, lines),
    ...brokenTables(tokens, lines),
    ...missingTargets(tokens, lines, targetExists),
  ];
  return problems.sort((a, b) => a.line - b.line);
}

/** A line without the blockquote markers and indentation of the containers it sits in. */
function bare(line: string): string {
  return line.replace(/^[\s>]*/, '');
}

// An unclosed fence is still valid CommonMark: the code block runs to the end of its container,
// swallowing every heading and paragraph after it. A stray fence does the same when a later one
// happens to close it, often the last line of the file: then the block holds headings or other
// fences, which a code block without a language never means to (Markdown shown as code on
// purpose says so: ````md).
function fenceProblems(tokens: Token[], lines: string[]): MarkdownProblem[] {
  const problems: MarkdownProblem[] = [];
  for (const token of tokens) {
    if (token.type !== 'fence' || token.map === null) continue;
    const [start, end] = token.map;
    const last = bare(lines[end - 1] ?? '').trimEnd();
    const char = token.markup[0] ?? '`';
    const closes =
      end - 1 > start && last.length >= token.markup.length && [...last].every((character) => character === char);
    if (!closes) {
      problems.push({
        line: start + 1,
        message: `the code fence ${token.markup} opened here is never closed: everything after it is shown as code`,
      });
    } else if (token.info.trim() === '' && /^ {0,3}(#{1,6}\s|`{3,}|~{3,})/m.test(token.content)) {
      const until =
        end === lines.length || lines.slice(end).every((line) => line.trim() === '')
          ? 'the end of the file'
          : `line ${end}`;
      problems.push({
        line: start + 1,
        message:
          `the code fence ${token.markup} opened here runs to ${until} and holds headings or fences: the Markdown ` +
          'in it is shown as code (a stray fence? Markdown meant as code: give the fence a language, e.g. md)',
      });
    }
  }
  return problems;
}

/** The cells of a table row as GFM counts them: split at pipes not escaped, outer pipes dropped. */
function cellCount(row: string): number {
  const cells = bare(row)
    .trim()
    .split(/(?<!\\)\|/);
  if (cells[0]?.trim() === '') cells.shift();
  if (cells.length > 0 && cells[cells.length - 1]?.trim() === '') cells.pop();
  return cells.length;
}

// GFM pads a short row and drops a long row's extra cells without a word, and lines that only
// look like a table (a table cut in two by a blank line, a header without its delimiter row)
// render as one paragraph of pipes.
function brokenTables(tokens: Token[], lines: string[]): MarkdownProblem[] {
  const problems: MarkdownProblem[] = [];
  const tableLines = new Set<number>();
  const verbatimLines = new Set<number>();
  let headerLine = -1;
  let header = 0;
  for (const token of tokens) {
    if (token.map === null) continue;
    const [start, end] = token.map;
    if (token.type === 'table_open') {
      for (let line = start; line < end; line++) tableLines.add(line);
      headerLine = start;
      header = cellCount(lines[start] ?? '');
    } else if (token.type === 'tr_open' && start !== headerLine) {
      const cells = cellCount(lines[start] ?? '');
      if (cells !== header) {
        problems.push({ line: start + 1, message: `table row has ${cells} cells, its header ${header}` });
      }
    } else if (['fence', 'code_block', 'html_block'].includes(token.type)) {
      for (let line = start; line < end; line++) verbatimLines.add(line);
    }
  }
  lines.forEach((text, line) => {
    if (bare(text).startsWith('|') && !tableLines.has(line) && !verbatimLines.has(line)) {
      problems.push({
        line: line + 1,
        message: 'looks like a table row but is not part of a table (a blank line inside a table? no delimiter row?)',
      });
    }
  });
  return problems;
}

/** Relative link and image targets: anything with a scheme (https:, mailto:) or only an #anchor is not a file. */
function fileTarget(url: string): string | undefined {
  if (url === '' || url.startsWith('#') || url.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(url)) return undefined;
  const path = url.replace(/[?#].*$/, '');
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function missingTargets(tokens: Token[], lines: string[], targetExists: TargetExists): MarkdownProblem[] {
  const problems: MarkdownProblem[] = [];
  const check = (url: string, map: [number, number] | null) => {
    const target = fileTarget(url);
    if (target === undefined || targetExists(target)) return;
    // Inline tokens know only their block's lines: name the first of them that holds the target.
    const [start, end] = map ?? [0, 1];
    const written = (text: string) => text.includes(target) || text.includes(url.replace(/[?#].*$/, ''));
    let line = start;
    while (line < end - 1 && !written(lines[line] ?? '')) line++;
    problems.push({ line: line + 1, message: `link to ${target}, which does not exist` });
  };
  for (const block of tokens) {
    const inline = block.children ?? [];
    for (const token of [block, ...inline]) {
      if (token.type === 'link_open') check(String(token.attrGet('href') ?? ''), block.map);
      if (token.type === 'image') check(String(token.attrGet('src') ?? ''), block.map);
      if (token.type === 'html_block' || token.type === 'html_inline') {
        for (const match of token.content.matchAll(/\b(?:href|src)\s*=\s*"([^"]*)"/g)) check(match[1] ?? '', block.map);
      }
    }
  }
  return problems;
}
