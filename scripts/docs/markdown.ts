// Markdown building blocks for the generated docs, laid out the way Biome formats Markdown.

/** A code span that holds any text: fenced by more backticks than it contains, pipes escaped for the table. */
export function code(value: string): string {
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const padded = value.startsWith('`') || value.endsWith('`') ? ` ${value} ` : value;
  return `${fence}${padded.replaceAll('|', '\\|')}${fence}`;
}

/**
 * Plain text as it reads, in a table cell: escapes what Markdown would otherwise take as markup
 * (an underscore inside a word never is, so VARIABLE_NAMES stay readable).
 */
export function text(value: string): string {
  return value
    .replace(/\\(?=[!-/:-@[-`{-~])/g, '\\\\')
    .replace(/[*`[\]<>|~]/g, (character) => `\\${character}`)
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_')
    .replace(/&(?=#?\w+;)/g, '\\&');
}

/** A GFM table laid out the way Biome formats Markdown: every column padded to its widest cell. */
export function table(header: string[], rows: string[][]): string {
  const width = (cell: string) => [...cell].length;
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat((widths[column] ?? 0) - width(cell))).join(' | ')} |`;
  const lines = [line(header), line(widths.map((size) => '-'.repeat(size))), ...rows.map(line)];
  return `${lines.join('\n')}\n`;
}

/** Text already written as Markdown (code spans and all), in a table cell: only pipes are escaped. */
export function markdownCell(value: string): string {
  return value.replaceAll('|', '\\|');
}
