/**
 * The one quoting function for everything robot-nas prints for a shell: commands to run next (`train …`, `predict
 * --model …`, `worker --queue …`) and file or class names in columns. A word comes back unchanged when a POSIX shell
 * (bash, zsh, dash) reads it: bare when it holds only characters no shell interprets, in single quotes otherwise (a
 * single quote inside becomes '\''), and in double quotes when it holds single quotes but nothing double quotes expand
 * (DARTS genotypes, which read better so).
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  if (!word.includes("'")) return `'${word}'`;
  if (!/[$`\\"!]/.test(word)) return `"${word}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line: each word quoted as needed, joined by spaces. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
